"""The standard vocabulary: every standard format and dataset type, seeded once."""

from chalicelib.models import DataFormat, DatasetType
from chalicelib.vocabulary import DATA_FORMATS, seed_vocabulary


def test_seeding_adds_every_standard_format_and_type_once(cloud):
    formats, types = seed_vocabulary()
    assert formats == len(DATA_FORMATS)
    assert types > 40
    assert seed_vocabulary() == (0, 0)
    extensions = {f.file_extension for f in DataFormat.scan()}
    assert {".npy", ".pqt", ".cbin", ".ch", ".meta", ".bin", ".flag", ".sparse_npz"} <= extensions
    names = {t.name for t in DatasetType.scan()}
    assert {"trials.table", "spikes.times", "clusters.channels", "ephysData.raw.ap"} <= names
    assert any(name.startswith("_iblrig_") for name in names)
    assert all(t.filename_pattern == t.filename_pattern.lower() for t in DatasetType.scan())
