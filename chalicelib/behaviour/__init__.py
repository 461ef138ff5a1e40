"""Behaviour analyses: the numbers IBL computes on every training session, with IBL's definitions.

``statuses`` (the training statuses, their order, colours and criteria bounds) imports nothing heavy, so the
web pages can use it inside the API's Lambda; ``trials``, ``psychometric``, ``metrics`` and ``training``
need NumPy and SciPy and run in the ``TrainingStatus`` Batch job, in notebooks and in later analyses
(training-time prediction builds on ``training.subject_training``).
"""
