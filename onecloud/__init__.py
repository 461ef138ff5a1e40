"""The onecloud command line and the local stack (moto server, API server, event pump, job runner)."""
