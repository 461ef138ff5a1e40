"""Sharing data the way the field shares it: sessions exported to Neurodata Without Borders (``nwb``,
``export``), and releases made citable (``citation``: version ids, citation text, schema.org JSON-LD,
DataCite DOIs)."""
