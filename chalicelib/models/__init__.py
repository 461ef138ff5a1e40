"""PynamoDB models, one module per aggregate. Every table is defined here once: the local stack and the
infrastructure code create tables from these definitions (``chalicelib.models.tables``)."""

from chalicelib import aws
from chalicelib.models.colony import (
    Allele,
    BreedingPair,
    CageType,
    Cull,
    CullMethod,
    CullReason,
    Enrichment,
    Food,
    GenotypeTest,
    Housing,
    Line,
    Litter,
    Sequence,
    Source,
    Species,
    Strain,
    SubjectRequest,
    Zygosity,
    ZygosityRule,
)
from chalicelib.models.data import DataFormat, Dataset, DatasetType, Download, FileRecord, Revision, Tag
from chalicelib.models.histology import Channel, ChronicInsertion, FieldOfView, TrajectoryEstimate
from chalicelib.models.history import HistoryEntry
from chalicelib.models.husbandry import WaterAdministration, WaterRestriction, WaterType, Weighing
from chalicelib.models.lab import DataRepository, DataRepositoryType, Lab, LabLocation
from chalicelib.models.note import Note
from chalicelib.models.notification import Notification, NotificationRule
from chalicelib.models.procedure import ProcedureType, Surgery
from chalicelib.models.project import Project
from chalicelib.models.release import Release, ReleasedDataset, ReleasedSession
from chalicelib.models.session import ProbeInsertion, Session
from chalicelib.models.subject import Subject
from chalicelib.models.task import Task
from chalicelib.models.unique import UniqueKey
from chalicelib.models.upload import Upload, UploadFile
from chalicelib.models.user import AuthToken, LabMembership, User

ALL_MODELS = (
    Lab,
    DataRepository,
    DataRepositoryType,
    User,
    LabMembership,
    AuthToken,
    Project,
    Subject,
    Session,
    ProbeInsertion,
    Weighing,
    WaterAdministration,
    WaterRestriction,
    WaterType,
    Surgery,
    ProcedureType,
    Note,
    DatasetType,
    DataFormat,
    Revision,
    Tag,
    Dataset,
    FileRecord,
    Task,
    Upload,
    UploadFile,
    UniqueKey,
    Release,
    ReleasedSession,
    ReleasedDataset,
    HistoryEntry,
    Species,
    Strain,
    Source,
    Line,
    Allele,
    Sequence,
    GenotypeTest,
    Zygosity,
    ZygosityRule,
    BreedingPair,
    Litter,
    SubjectRequest,
    Cull,
    CullReason,
    CullMethod,
    CageType,
    Food,
    Enrichment,
    Housing,
    Notification,
    NotificationRule,
    TrajectoryEstimate,
    Channel,
    ChronicInsertion,
    FieldOfView,
    LabLocation,
    Download,
)

aws.bind_models(ALL_MODELS)

__all__ = [model.__name__ for model in ALL_MODELS] + ["ALL_MODELS"]
