"""The REST resources: one generic engine for list / read / create / update / delete.

Each resource (``chalicelib/resources/``) declares its fields, list filters and the few hooks where its
rules differ; the engine does the rest the same way for all of them: permissions, validation, relation
checks, uniqueness, paging and the ``django=`` filter. Handlers stay thin: they build a ``Context`` from
the request and call these functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from pynamodb.models import Model

from chalicelib import history
from chalicelib.auth import Principal
from chalicelib.errors import Ambiguous, BadRequest, NotFound, PermissionDenied
from chalicelib.fields import Field, parse_payload
from chalicelib.lookups import Lookup, matches_all, parse_django
from chalicelib.models.unique import StaleWrite, delete_unique, save_unique
from chalicelib.permissions import require_read, require_write

DEFAULT_LIMIT, MAX_LIMIT = 250, 1000
PAGING = ("limit", "offset", "django")
ACTIONS = ("list", "read", "create", "update", "partial_update", "delete")


@dataclass(frozen=True)
class Context:
    """Who calls, and the base URL they called (records carry absolute URLs built from it)."""

    principal: Principal | None
    base_url: str = ""

    def url(self, resource: str, key: str) -> str:
        """Names may hold spaces, '%', '#' or '/' (a procedure "Behavior training/tasks"): encoded."""
        return f"{self.base_url}/{resource}/{quote(key, safe='')}"


@dataclass(frozen=True)
class Param:
    """A list filter. ``test`` keeps or drops a record; ``index`` filters may also choose the query."""

    name: str
    test: Callable[[Any, str], bool]
    description: str = ""


def _unique_keys(item: Model) -> list[str]:
    return list(getattr(item, "unique_keys", []))


@dataclass
class Resource:
    name: str
    model: type[Model]
    fields: tuple[Field, ...]
    singular: str
    key: str = "id"
    lab_scoped: bool = False
    params: tuple[Param, ...] = ()
    description: str = ""
    ordering: Callable[[Any], Any] | None = None
    actions: tuple[str, ...] = ACTIONS
    build: Callable[[dict[str, Any], Context], Model] | None = None
    change: Callable[[Model, dict[str, Any], Context], None] | None = None
    serialize_many: Callable[[list[Model], Context], list[dict[str, Any]]] | None = None
    serialize_detail: Callable[[Model, Context], dict[str, Any]] | None = None
    candidates: Callable[[Mapping[str, str]], Iterable[Model] | None] | None = None
    lab_of: Callable[[Model], str | None] = field(default=lambda item: getattr(item, "lab", None))
    owner_of: Callable[[Model], str | None] | None = None  # a user's own records (notification rules)
    get: Callable[[str, Mapping[str, str]], Model] | None = None
    after_save: Callable[[Model, dict[str, Any], Context], None] | None = None
    after_delete: Callable[[Model], None] | None = None
    store_files: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # multipart files -> field values
    discard_files: Callable[[dict[str, Any]], None] | None = None  # undo store_files when the create fails

    def __post_init__(self) -> None:
        self.field_names = [f.name for f in self.fields]

    def lookup(self, key: str, scope: Mapping[str, str] | None = None) -> Model:
        """The record named by ``key``; ``scope`` holds the query parameters that narrow a name that is
        unique only within them (a subject's nickname within ``lab``)."""
        if self.get:
            return self.get(key, scope or {})
        if self.key == "id":
            try:
                key = str(uuid.UUID(key))
            except ValueError:
                raise BadRequest(f"{key!r} is not a valid uuid") from None
        try:
            return self.model.get(key)
        except self.model.DoesNotExist:
            raise NotFound(f"{self.singular} {key} does not exist") from None

    def exists(self, key: str) -> bool:
        try:
            self.lookup(key)
        except Ambiguous:
            return True  # it exists; the hook that uses it asks which one
        except (NotFound, BadRequest):
            return False
        return True

    def serialize(self, items: list[Model], ctx: Context) -> list[dict[str, Any]]:
        if self.serialize_many:
            return self.serialize_many(items, ctx)
        return [self.default_serialize(item, ctx) for item in items]

    def default_serialize(self, item: Model, ctx: Context) -> dict[str, Any]:
        values = item.attribute_values
        key = values[self.key]
        out: dict[str, Any] = {"id": values.get("id", key), "url": ctx.url(self.name, key)}
        for f in self.fields:
            if f.name not in ("id", "url"):
                out[f.name] = values.get(f.name)
        return out


REGISTRY: dict[str, Resource] = {}


def register(resource: Resource) -> Resource:
    REGISTRY[resource.name] = resource
    return resource


def _limit_offset(query: Mapping[str, str]) -> tuple[int, int]:
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise BadRequest("limit and offset must be whole numbers") from None
    if limit < 1 or offset < 0:
        raise BadRequest("limit must be at least 1 and offset at least 0")
    return min(limit, MAX_LIMIT), offset


def _row(item: Model) -> dict[str, Any]:
    return item.attribute_values


def _by_keys(resource: Resource, lookups: list[Lookup]) -> list[Model] | None:
    """Records named by ``pk`` / ``id`` (what ONE sends) are fetched by key, never searched for."""
    for lookup in lookups:
        if (
            lookup.field not in (resource.key, "id")
            or lookup.operator not in ("exact", "in")
            or lookup.negate
        ):
            continue
        if resource.key != "id" and lookup.field == "id":
            continue
        keys = lookup.value if isinstance(lookup.value, list | tuple) else [lookup.value]
        keys = list(dict.fromkeys(k for k in (_normal_key(resource, str(key)) for key in keys) if k))
        if resource.get:
            return [item for item in (_found(resource, key) for key in keys) if item is not None]
        return list(resource.model.batch_get(keys))
    return None


def _found(resource: Resource, key: str) -> Model | None:
    try:
        return resource.lookup(key)
    except NotFound:
        return None


def _normal_key(resource: Resource, key: str) -> str | None:
    """Ids compare as uuids (any case); a text that is not one names nothing."""
    if resource.key != "id":
        return key
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return None


def list_items(resource: Resource, query: Mapping[str, str], ctx: Context, path: str) -> dict[str, Any]:
    require_read(ctx.principal)
    limit, offset = _limit_offset(query)
    known = {p.name: p for p in resource.params}
    unknown = sorted(set(query) - set(known) - set(PAGING))
    if unknown:
        raise BadRequest(
            f"unknown filter{'s' if len(unknown) > 1 else ''} for {resource.name}: {', '.join(unknown)}"
        )
    lookups = parse_django(
        query.get("django", ""), key_field=resource.key, fields=resource.field_names + ["id"]
    )
    filters = [(known[name], value) for name, value in query.items() if name in known]
    items = _by_keys(resource, lookups)
    if items is None:
        found = resource.candidates(query) if resource.candidates else None
        items = found if found is not None else resource.model.scan()
    kept = [
        item
        for item in items
        if all(param.test(item, value) for param, value in filters) and matches_all(lookups, _row(item))
    ]
    if resource.ordering:
        kept.sort(key=resource.ordering)
    page = kept[offset : offset + limit]

    def link(new_offset: int) -> str:
        return f"{ctx.base_url}{path}?{urlencode({**query, 'limit': limit, 'offset': new_offset})}"

    return {
        "count": len(kept),
        "next": link(offset + limit) if offset + limit < len(kept) else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "results": resource.serialize(page, ctx),
    }


def read_item(
    resource: Resource, key: str, ctx: Context, scope: Mapping[str, str] | None = None
) -> dict[str, Any]:
    require_read(ctx.principal)
    return _detail(resource, resource.lookup(key, scope), ctx)


def read_versioned(
    resource: Resource, key: str, ctx: Context, scope: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], int]:
    """The record and its version (what a later ``If-Match`` names)."""
    require_read(ctx.principal)
    item = resource.lookup(key, scope)
    return _detail(resource, item, ctx), history.current_version(history.record_key(resource.name, item))


def _detail(resource: Resource, item: Model, ctx: Context) -> dict[str, Any]:
    if resource.serialize_detail:
        return resource.serialize_detail(item, ctx)
    return resource.serialize([item], ctx)[0]


def check_relations(fields: Iterable[Field], data: Mapping[str, Any]) -> None:
    """Every related name a payload gives must exist (a 400 naming the field otherwise)."""
    for f in fields:
        value = data.get(f.name)
        if not f.relation or value in (None, "", []):
            continue
        related = REGISTRY[f.relation]
        for name in value if isinstance(value, list) else [value]:
            if not related.exists(name):
                raise BadRequest(f"{f.name}: {related.singular} {name!r} does not exist")


def _allow(resource: Resource, action: str) -> None:
    if action not in resource.actions:
        raise PermissionDenied(f"{resource.name} are read only through the API")


def _authorize(resource: Resource, item: Model, ctx: Context) -> None:
    principal = ctx.principal
    owner = resource.owner_of(item) if resource.owner_of else None
    if principal and owner and owner == principal.username and not principal.is_public_user:
        return
    require_write(
        ctx.principal, what=resource.singular, lab=resource.lab_of(item), lab_scoped=resource.lab_scoped
    )


def _user(ctx: Context) -> str | None:
    return ctx.principal.username if ctx.principal else None


def create_item(resource: Resource, body: Any, ctx: Context) -> dict[str, Any]:
    require_read(ctx.principal)
    _allow(resource, "create")
    data = parse_payload(resource.fields, body, partial=False)
    check_relations(resource.fields, data)
    item = resource.build(data, ctx) if resource.build else resource.model(**data)
    _authorize(resource, item, ctx)
    record = history.record_key(resource.name, item)
    created = history.changes({}, history.snapshot(item))
    entry = history.entry(record, history.current_version(record) + 1, "create", _user(ctx), created)
    try:
        save_unique(item, add=_unique_keys(item), create=True, entry=entry)
    except StaleWrite:
        raise history.stale(f"{resource.singular} {item.attribute_values[resource.key]}", record, 0) from None
    if resource.after_save:
        resource.after_save(item, data, ctx)
    return _detail(resource, item, ctx)


def version_of(resource: Resource, key: str, scope: Mapping[str, str] | None = None) -> int:
    """The record's version (its number of audited writes): what ``If-Match`` names."""
    return history.current_version(history.record_key(resource.name, resource.lookup(key, scope)))


def update_item(
    resource: Resource,
    key: str,
    body: Any,
    ctx: Context,
    *,
    partial: bool,
    based_on: int | None = None,
    scope: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Change a record; ``based_on`` is the version the caller read (a 409 when it is no longer current)."""
    require_read(ctx.principal)
    _allow(resource, "partial_update" if partial else "update")
    item = resource.lookup(key, scope)
    _authorize(resource, item, ctx)
    data = parse_payload(resource.fields, body, partial=partial)
    if resource.key in data and data[resource.key] != item.attribute_values[resource.key]:
        raise BadRequest(f"{resource.key}: cannot be changed")
    check_relations(resource.fields, data)
    record, what = history.record_key(resource.name, item), f"{resource.singular} {key}"
    version = history.current_version(record)
    if based_on is not None and based_on != version:
        raise history.stale(what, record, based_on)
    before = set(_unique_keys(item))
    values = history.snapshot(item)
    if resource.change:
        resource.change(item, data, ctx)
    else:
        for name, value in data.items():
            setattr(item, name, value)
    _authorize(resource, item, ctx)
    after = set(_unique_keys(item))
    diff = history.changes(values, history.snapshot(item))
    entry = history.entry(record, version + 1, "update", _user(ctx), diff) if diff else None
    try:
        save_unique(item, add=sorted(after - before), remove=sorted(before - after), entry=entry)
    except StaleWrite:
        raise history.stale(what, record, version) from None
    if resource.after_save:
        resource.after_save(item, data, ctx)
    return _detail(resource, item, ctx)


def delete_item(
    resource: Resource,
    key: str,
    ctx: Context,
    *,
    based_on: int | None = None,
    scope: Mapping[str, str] | None = None,
) -> None:
    require_read(ctx.principal)
    _allow(resource, "delete")
    item = resource.lookup(key, scope)
    _authorize(resource, item, ctx)
    record, what = history.record_key(resource.name, item), f"{resource.singular} {key}"
    version = history.current_version(record)
    if based_on is not None and based_on != version:
        raise history.stale(what, record, based_on)
    removed = history.changes(history.snapshot(item), {})
    entry = history.entry(record, version + 1, "delete", _user(ctx), removed)
    try:
        delete_unique(item, _unique_keys(item), entry=entry)
    except StaleWrite:
        raise history.stale(what, record, version) from None
    if resource.after_delete:
        resource.after_delete(item)


def item_history(
    resource: Resource, key: str, ctx: Context, scope: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``GET /<resource>/<key>/history``: every audited write of the record, newest first."""
    require_read(ctx.principal)
    record = history.record_key(resource.name, resource.lookup(key, scope))
    found = history.entries(record)
    return {"count": len(found), "results": found}
