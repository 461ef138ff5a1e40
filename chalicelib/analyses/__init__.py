"""Analyses over everything the database holds (across sessions, subjects and labs), as opposed to the
per-session tasks of the pipeline. Each analysis is a package of plain functions over plain records; a
Batch job gathers the records and stores the results the pages show."""
