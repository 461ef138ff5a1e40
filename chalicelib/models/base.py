"""What every onecloud table shares: on-demand billing, a configurable name, uuid4 ids."""

from __future__ import annotations

import datetime
import uuid

from pynamodb.constants import PAY_PER_REQUEST_BILLING_MODE
from pynamodb.models import Model


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> str:
    """Naive ISO 8601 timestamp, as Alyx stores and shows datetimes."""
    return datetime.datetime.now().replace(microsecond=0).isoformat()


class TableMeta:
    """Meta for every model. ``table`` is the short name; chalicelib.aws derives the real table name,
    host and region from configuration when the model is bound."""

    table: str = ""
    table_name: str | None = None
    host: str | None = None
    region: str = "us-east-1"
    billing_mode = PAY_PER_REQUEST_BILLING_MODE


class BaseModel(Model):
    class Meta(TableMeta):
        table = "base"
