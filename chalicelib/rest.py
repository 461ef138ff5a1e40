"""The REST resources: one generic engine for list / read / create / update / delete.

Each resource (``chalicelib/resources/``) declares its fields, list filters and the few hooks where its
rules differ; the engine does the rest the same way for all of them: permissions, validation, relation
checks, uniqueness, paging and the ``django=`` filter. Handlers stay thin: they build a ``Context`` from
the request and call these functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from pynamodb.models import Model

from chalicelib import history
from chalicelib.auth import Principal
from chalicelib.errors import Ambiguous, BadRequest, NotFound, PermissionDenied
from chalicelib.fields import NAME_LENGTH, Field, parse_payload
from chalicelib.lookups import Lookup, json_lookups, parse_django, split_top_level
from chalicelib.memo import Memo
from chalicelib.models.unique import StaleWrite, delete_unique, save_unique
from chalicelib.permissions import require_read, require_write

DEFAULT_LIMIT, MAX_LIMIT = 250, 1000
MAX_OFFSET = 2**63 - 1
MAX_KEY = NAME_LENGTH  # a key or filter value longer than any stored one names nothing (DynamoDB refuses it)
PAGING = ("limit", "offset", "django")
NOT_FILTERS = ("password",)  # write-only fields: never a filter, or a query could probe a secret
DENORMALIZED = {"session__lab": "lab", "subject__lab": "lab", "dataset__session": "session"}
"""Relation hops whose answer the record itself already holds (a task's lab is its session's lab), so
``django=session__lab__name__in,[...]`` reads the record and its keyed index instead of the relation."""
ACTIONS = ("list", "read", "create", "update", "partial_update", "delete")
T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """Who calls, and the base URL they called (records carry absolute URLs built from it)."""

    principal: Principal | None
    base_url: str = ""
    memo: Memo | None = None  # while a list of records is created: what they look up alike

    def remember(self, key: Hashable, look_up: Callable[[], T]) -> T:
        """``look_up()``; while a list of records is created, once per ``key`` (its records name the same
        subject, lab and water type: read once, not once per record)."""
        return look_up() if self.memo is None else self.memo.remember(key, look_up)

    def url(self, resource: str, key: str) -> str:
        """Names may hold spaces, '%', '#' or '/' (a procedure "Behavior training/tasks"): encoded."""
        return f"{self.base_url}/{resource}/{quote(key, safe='')}"


@dataclass(frozen=True)
class Param:
    """A list filter. ``test`` keeps or drops a record; ``index`` filters may also choose the query."""

    name: str
    test: Callable[[Any, Any], bool]
    description: str = ""
    prepare: Callable[[str], Any] | None = None  # read the value once per request (a set of ids...)


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
    newest_first: bool = False  # lists in reverse ``ordering`` (Alyx's sessions: ``-start_time``)
    django: bool = True  # whether the list takes ``django=`` (Alyx's vocabulary lists do not)
    bulk_create: bool = False  # POST takes a list of records too (Alyx's channels)
    actions: tuple[str, ...] = ACTIONS
    build: Callable[[dict[str, Any], Context], Model] | None = None
    change: Callable[[Model, dict[str, Any], Context], None] | None = None
    serialize_many: Callable[[list[Model], Context], list[dict[str, Any]]] | None = None
    serialize_detail: Callable[[Model, Context], dict[str, Any]] | None = None
    # the detail of a record just made (keyed by a new uuid: nothing can point at it yet)
    serialize_created: Callable[[Model, Context], dict[str, Any]] | None = None
    candidates: Callable[[Mapping[str, str]], Iterable[Model] | None] | None = None
    lab_of: Callable[[Model], str | None] = field(default=lambda item: getattr(item, "lab", None))
    owner_of: Callable[[Model], str | None] | None = None  # a user's own records (notification rules)
    get: Callable[[str, Mapping[str, str]], Model] | None = None
    place: Callable[[Model], None] | None = None
    after_save: Callable[[Model, dict[str, Any], Context], None] | None = None
    before_delete: Callable[[Model], None] | None = None
    after_delete: Callable[[Model], None] | None = None
    store_files: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # multipart files -> field values
    discard_files: Callable[[dict[str, Any]], None] | None = None  # undo store_files when the create fails

    def __post_init__(self) -> None:
        self.fields = tuple(f.bound_to(self.model) for f in self.fields)
        self.field_names = [f.name for f in self.fields]

    def filters(self) -> dict[str, Param]:
        """Every filter of the list: the declared ones, then, as Alyx's filter sets do for every model
        field, an exact match on each field (a lookup ``key,value[;...]`` inside a JSON field)."""
        known = {p.name: p for p in self.params}
        for f in self.fields:
            if f.name not in known and f.name not in NOT_FILTERS:
                known[f.name] = _json_param(f.name) if f.kind == "json" else _field_param(f.name)
        return known

    def lookup(self, key: str, scope: Mapping[str, str] | None = None) -> Model:
        """The record named by ``key``; ``scope`` holds the query parameters that narrow a name that is
        unique only within them (a subject's nickname within ``lab``)."""
        if not key or len(key) > MAX_KEY:
            raise NotFound(f"{self.singular} {key[:40]!r} does not exist")
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
                value = values.get(f.name)
                # DynamoDB numbers come back as floats: an integer field answers an integer, as in Alyx
                out[f.name] = int(value) if f.kind == "integer" and value is not None else value
        return out


def _field_param(name: str) -> Param:
    def test(item: Model, value: str) -> bool:
        return Lookup(name, "exact", value).matches(item.attribute_values)

    return Param(name, test, f"{name} equals")


def _json_param(name: str) -> Param:
    def test(item: Model, value: str) -> bool:
        document = item.attribute_values.get(name)
        return isinstance(document, Mapping) and all(
            lookup.matches(document) for lookup in json_lookups(value, name)
        )

    return Param(name, test, f"lookups inside the {name} JSON: key[__lookup],value[,key,value...]")


REGISTRY: dict[str, Resource] = {}


def register(resource: Resource) -> Resource:
    REGISTRY[resource.name] = resource
    return resource


def limit_offset(query: Mapping[str, str]) -> tuple[int, int]:
    """A list's page: ``limit`` (at most MAX_LIMIT) records from ``offset`` (a 64-bit integer at most)."""
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise BadRequest("limit and offset must be whole numbers") from None
    if limit < 1 or not 0 <= offset <= MAX_OFFSET:
        raise BadRequest(f"limit must be at least 1 and offset between 0 and {MAX_OFFSET}")
    return min(limit, MAX_LIMIT), offset


def _row(item: Model) -> dict[str, Any]:
    return item.attribute_values


@dataclass(frozen=True)
class RelationLookup:
    """``session__subject__nickname,KS023``: a lookup on the record a relation field names. The related
    records are read by key (once per request for each), never searched for."""

    field: str
    related: Resource
    lookups: tuple[Any, ...]
    negate: bool
    cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def matches(self, row: Mapping[str, Any]) -> bool:
        names = row.get(self.field)
        names = names if isinstance(names, list) else [names]
        found = any(
            self._related_row(str(name)) is not None
            and all(lookup.matches(self._related_row(str(name))) for lookup in self.lookups)
            for name in names
            if name not in (None, "")
        )
        return found != self.negate

    def _related_row(self, key: str) -> Mapping[str, Any] | None:
        if key not in self.cache:
            item = _found(self.related, key) if self.related.exists(key) else None
            self.cache[key] = None if item is None else _row(item)
        return self.cache[key]


def django_lookups(resource: Resource, text: str) -> list[Any]:
    """``django=`` of a list: lookups on the resource's fields, and through its relation fields on the
    fields of the records they name (Alyx's ``session__lab__name``, ``data_repository__globus_is_personal``),
    each value still read with ``literal_eval`` (chalicelib.lookups)."""
    if not text.strip():
        return []
    items = split_top_level(text)
    relations = {f.name: f.relation for f in resource.fields if f.relation}
    attributes = set(resource.model.get_attributes())
    plain: list[str] = []
    out: list[Any] = []
    for key, value in zip(items[::2], items[1::2], strict=False):
        negate, path = key.strip().startswith("~"), key.strip().removeprefix("~")
        head, _, rest = path.partition("__")
        hop, _, _ = rest.partition("__")
        for long, short in DENORMALIZED.items():
            if (path == long or path.startswith(long + "__")) and short in attributes:
                path = short + path[len(long) :]
                head, rest = short, path.partition("__")[2]
                hop = rest.partition("__")[0]
        related = REGISTRY.get(relations.get(head, ""))
        if related is None or not hop or hop in _NOT_A_HOP:
            plain += [("~" if negate else "") + path, value]
            continue
        nested = parse_django(f"{rest},{value}", key_field=related.key, fields=_lookup_fields(related))
        out.append(RelationLookup(head, related, tuple(nested), negate))
    if len(items) % 2:
        plain.append(items[-1])
    return parse_django(",".join(plain), key_field=resource.key, fields=_lookup_fields(resource)) + out


_NOT_A_HOP = frozenset(
    {"name", "nickname", "username", "id", "pk", "exact", "iexact", "in", "isnull", "contains", "icontains"}
    | {"startswith", "istartswith", "endswith", "iendswith", "gt", "gte", "lt", "lte", "range", "date"}
)


def _lookup_fields(resource: Resource) -> list[str]:
    """The fields a ``django=`` lookup may name: those the resource shows, its id, and the lab its
    records carry (the target of ``session__lab__name``)."""
    carried = [name for name in ("lab",) if name in resource.model.get_attributes()]
    return [name for name in resource.field_names if name not in NOT_FILTERS] + ["id", *carried]


def _by_keys(resource: Resource, lookups: list[Lookup]) -> list[Model] | None:
    """Records named by ``pk`` / ``id`` (what ONE sends) are fetched by key, never searched for."""
    for lookup in lookups:
        if (
            not isinstance(lookup, Lookup)
            or lookup.field not in (resource.key, "id")
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


def ignored_filters(resource: Resource, query: Mapping[str, str]) -> list[str]:
    """Query names no filter declares: ignored, as Alyx (django-filter) ignores them, and named in the
    answer's ``Warning`` header so that a typo is never silent."""
    return sorted(set(query) - set(resource.filters()) - set(_paging(resource)))


def _paging(resource: Resource) -> tuple[str, ...]:
    return PAGING if resource.django else ("limit", "offset")


def _keyed_candidates(resource: Resource, query: Mapping[str, str], lookups: list[Any]) -> Any:
    """The records a keyed index can answer for: from the query's filters, or from a ``django=`` exact /
    ``in`` lookup on a filter the index answers (``lab__in,[...]``: one keyed query per lab)."""
    if not resource.candidates:
        return None
    found = resource.candidates(query)
    if found is not None:
        return found
    for lookup in lookups:
        if not isinstance(lookup, Lookup) or lookup.negate or lookup.date_part:
            continue
        if lookup.operator not in ("exact", "in") or lookup.field in query or lookup.value is None:
            continue
        values = lookup.value if isinstance(lookup.value, tuple) else (lookup.value,)
        per_value = [resource.candidates({**query, lookup.field: str(value)}) for value in values]
        if per_value and all(found is not None for found in per_value):
            merged: dict[Any, Model] = {}
            for found in per_value:
                merged.update((item.attribute_values[resource.key], item) for item in found)
            return list(merged.values())
    return None


def list_items(resource: Resource, query: Mapping[str, str], ctx: Context, path: str) -> dict[str, Any]:
    require_read(ctx.principal)
    limit, offset = limit_offset(query)
    known = resource.filters()
    query = {  # empty values are ignored, as django-filter ignores them
        name: value
        for name, value in query.items()
        if (name in known or name in _paging(resource)) and value != ""
    }
    lookups = django_lookups(resource, query.get("django", ""))
    filters = [
        (known[name], known[name].prepare(value) if known[name].prepare else value)
        for name, value in query.items()
        if name in known
    ]
    items = _by_keys(resource, lookups)
    if items is None:
        keyed = {name: value for name, value in query.items() if len(value.encode()) <= MAX_KEY}
        found = _keyed_candidates(resource, keyed, lookups)  # longer values name no key
        items = found if found is not None else resource.model.scan()
    kept = [
        item
        for item in items
        if all(param.test(item, value) for param, value in filters)
        and all(lookup.matches(_row(item)) for lookup in lookups)
    ]
    if resource.ordering:
        kept.sort(key=resource.ordering, reverse=resource.newest_first)
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


def check_relations(fields: Iterable[Field], data: Mapping[str, Any], ctx: Context) -> None:
    """Every record a payload points at must exist (a 400 naming the field otherwise), and pointing at a
    lab's record needs the right to write that lab's records: a member of one lab cannot attach anything
    to another lab's subjects, sessions, datasets or tasks, even from a record of its own."""
    for f in fields:
        value = data.get(f.name)
        if not f.relation or value in (None, "", []):
            continue
        related = REGISTRY[f.relation]
        for name in value if isinstance(value, list) else [value]:
            try:
                target = ctx.remember((f.relation, name), partial(related.lookup, name))
            except Ambiguous:
                continue  # a nickname several labs use: the hook resolves it, then _place checks it
            except (NotFound, BadRequest):
                raise BadRequest(f"{f.name}: {related.singular} {name!r} does not exist") from None
            if related.lab_scoped:
                require_write(
                    ctx.principal, what=related.singular, lab=related.lab_of(target), lab_scoped=True
                )


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


def _place(resource: Resource, item: Model, ctx: Context) -> None:
    """Derive what a record inherits from the records it points at (its lab, its session), refuse
    references that do not belong together, then check the caller may write the record where it lands."""
    if resource.place:
        resource.place(item)
    _authorize(resource, item, ctx)


def _save_new(resource: Resource, item: Model, ctx: Context, *, fresh: bool = False) -> None:
    """Save a new record with its guards and its first audit entry, in one transaction. A ``fresh`` record
    (keyed by an id made here) has no history to read; a named one may have (a name used before)."""
    record = history.record_key(resource.name, item)
    created = history.changes({}, history.snapshot(item))
    version = 0 if fresh else history.current_version(record)
    entry = history.entry(record, version + 1, "create", _user(ctx), created)
    try:
        save_unique(item, add=_unique_keys(item), create=True, entry=entry)
    except StaleWrite:
        raise history.stale(f"{resource.singular} {item.attribute_values[resource.key]}", record, 0) from None


def _may_write_some(resource: Resource, ctx: Context) -> None:
    """A caller who may write no record of this kind is refused (403) before its record is looked up,
    as Alyx's permission classes do: a read-only user learns nothing from a 404."""
    principal = require_read(ctx.principal)
    if principal.is_superuser or (resource.owner_of and not principal.is_public_user):
        return  # records a user owns (notification rules) are checked against the record itself
    some_lab = next(iter(principal.labs), None)
    require_write(principal, what=resource.singular, lab=some_lab, lab_scoped=resource.lab_scoped)


def _as_sent(resource: Resource, body: Any, shown: Callable[[], dict[str, Any]]) -> Any:
    """The body without what the record's own answer shows but nobody writes (``url``, computed and
    related fields): a client may send back a record exactly as it read it, as DRF ignores read-only
    fields. Other unknown names are still refused."""
    if not isinstance(body, Mapping) or set(body) <= set(resource.field_names):
        return body
    extra = set(body) - set(resource.field_names) - {"url", "id"}
    ignored = {"url", "id"} | (set(shown()) if extra else set())
    return {k: v for k, v in body.items() if k in resource.field_names or k not in ignored}


def _chosen_id(resource: Resource, body: Any, ctx: Context) -> str | None:
    """A superuser may give a new record its id (a migration from Alyx keeps every record's uuid);
    anyone else's ``id`` is ignored, as Alyx ignores it."""
    if not isinstance(body, Mapping) or body.get("id") in (None, ""):
        return None
    if not (ctx.principal and ctx.principal.is_superuser) or "id" not in resource.model.get_attributes():
        return None
    try:
        chosen = str(uuid.UUID(str(body["id"])))
    except ValueError:
        raise BadRequest(f"id: {body['id']!r} is not a valid uuid") from None
    return chosen


def create_items(resource: Resource, body: Any, ctx: Context) -> Any:
    """One record, or for a resource that takes them (channels: a probe's 384 at once) a list: each
    is checked before any is written, so a bad one writes nothing."""
    if not (resource.bulk_create and isinstance(body, list)):
        return create_item(resource, body, ctx)
    ctx = replace(ctx, memo=Memo())
    made = [_new_item(resource, record, ctx) for record in body]
    for item, data, fresh in made:
        _save_new(resource, item, ctx, fresh=fresh)
        if resource.after_save:
            resource.after_save(item, data, ctx)
    return resource.serialize([item for item, _, _ in made], ctx)


def create_item(resource: Resource, body: Any, ctx: Context) -> dict[str, Any]:
    item, data, fresh = _new_item(resource, body, ctx)
    _save_new(resource, item, ctx, fresh=fresh)
    if resource.after_save:
        resource.after_save(item, data, ctx)
    if fresh and resource.serialize_created:
        return resource.serialize_created(item, ctx)
    return _detail(resource, item, ctx)


def _new_item(resource: Resource, body: Any, ctx: Context) -> tuple[Model, dict[str, Any], bool]:
    """The record a POST body describes, checked (fields, relations, permission) but not yet saved, and
    whether it is fresh: keyed by the uuid the model made for it (not an id a superuser chose, not a
    name), so it has no history yet."""
    require_read(ctx.principal)
    _allow(resource, "create")
    chosen = _chosen_id(resource, body, ctx)
    data = parse_payload(resource.fields, _as_sent(resource, body, dict), partial=False)
    check_relations(resource.fields, data, ctx)
    item = resource.build(data, ctx) if resource.build else resource.model(**data)
    if chosen:
        item.id = chosen
    _place(resource, item, ctx)
    fresh = item._hash_key_attribute().attr_name == "id" and not chosen and "id" not in data
    return item, data, fresh


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
    _may_write_some(resource, ctx)
    _allow(resource, "partial_update" if partial else "update")
    item = resource.lookup(key, scope)
    _authorize(resource, item, ctx)
    body = _as_sent(resource, body, lambda: read_item(resource, key, ctx, scope))
    data = parse_payload(resource.fields, body, partial=partial)
    if resource.key in data and data[resource.key] != item.attribute_values[resource.key]:
        raise BadRequest(f"{resource.key}: cannot be changed")
    check_relations(resource.fields, data, ctx)
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
    _place(resource, item, ctx)
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
    _may_write_some(resource, ctx)
    _allow(resource, "delete")
    item = resource.lookup(key, scope)
    _authorize(resource, item, ctx)
    if resource.before_delete:
        resource.before_delete(item)
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
