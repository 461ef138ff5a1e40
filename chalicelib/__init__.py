"""onecloud's domain: the code that runs the same in Lambda, in Batch jobs, in the CLI and in tests."""

__version__ = "0.1.0"
