"""Moving a lab from Alyx: its records (a ``dumpdata`` file) translated to onecloud's (``translate``) and
written so that a second run changes nothing (``upsert``)."""
