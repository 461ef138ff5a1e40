"""Labs, users, projects and subjects."""

from __future__ import annotations

import datetime
from typing import Any

from chalicelib import alf
from chalicelib.accounts import USERNAME, hash_password
from chalicelib.auth import current_labs, revoke_tokens
from chalicelib.colony.subjects import end_restrictions, record_changes
from chalicelib.errors import BadRequest, Conflict
from chalicelib.fields import Field
from chalicelib.models import Lab, LabMembership, Project, Subject, User, WaterAdministration, Weighing
from chalicelib.resources.common import any_of, custom, exact, name_field
from chalicelib.rest import Context, Resource, register
from chalicelib.sessions import sessions_of_subject
from chalicelib.subjects import find_subject, shared_nicknames, subjects_referenced

register(
    Resource(
        name="labs",
        singular="lab",
        model=Lab,
        key="name",
        description="Laboratories: each owns its subjects, sessions and data",
        fields=(
            name_field(r"\w+", "lab name (letters, digits, underscore)"),
            Field("institution"),
            Field("address"),
            Field("timezone"),
            Field("reference_weight_pct", "number", minimum=0),
            Field("zscore_weight_pct", "number", minimum=0),
            Field("repositories", "list", relation="data-repository"),
            Field("json", "json"),
            Field("light_cycle", "integer", choices=(0, 1), description="default of new housings: 0 normal"),
            Field("food", relation="foods", description="default food of new housings"),
            Field("cage_type", relation="cage-types"),
            Field("enrichment", relation="enrichments"),
            Field("cage_cleaning_frequency_days", "integer", minimum=0),
        ),
        params=(exact("name"), exact("institution")),
        ordering=lambda lab: lab.name,
    )
)


def _user_build(data: dict[str, Any], ctx: Context) -> User:
    if not data.get("password"):
        raise BadRequest("password: this field is required")
    values = {k: v for k, v in data.items() if k not in ("password", "lab")}
    return User(password_hash=hash_password(data["password"]), **values)


def _keep_a_superuser(user: User) -> None:
    """Refuse to demote, deactivate or delete the last active superuser: nobody could manage accounts."""
    superusers = User.scan(User.is_superuser == True)  # noqa: E712 - a condition, not a test
    others = [u for u in superusers if u.is_active and u.username != user.username]
    if not others:
        raise Conflict(f"{user.username} is the last active superuser: make another superuser first")


def _user_change(user: User, data: dict[str, Any], ctx: Context) -> None:
    demoted = data.get("is_superuser") is False or data.get("is_active") is False
    if user.is_superuser and user.is_active and demoted:
        _keep_a_superuser(user)
    for name, value in data.items():
        if name == "password":
            user.password_hash = hash_password(value)
        elif name != "lab":
            setattr(user, name, value)


def _user_memberships(user: User, data: dict[str, Any], ctx: Context) -> None:
    """``lab`` lists the labs the user belongs to from now: new ones start today, missing ones ended
    yesterday (end dates are inclusive), so a removed member loses the lab on its next request. A
    deactivated account loses its tokens."""
    if not user.is_active:
        revoke_tokens(user.username)
    if "lab" not in data:
        return
    today = datetime.date.today()
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    wanted = set(data["lab"] or [])
    for membership in LabMembership.query(user.username):
        active = not membership.end_date or membership.end_date >= today.isoformat()
        if membership.lab in wanted:
            if not active:
                membership.update(actions=[LabMembership.end_date.remove()])
            wanted.discard(membership.lab)
        elif active and (membership.start_date or "") > yesterday:
            membership.delete()  # began today: it never was
        elif active:
            membership.update(actions=[LabMembership.end_date.set(yesterday)])
    for lab in wanted:
        LabMembership(username=user.username, lab=lab, start_date=today.isoformat()).save()


def _user_deleted(user: User) -> None:
    """A deleted account leaves nothing an account of the same name could inherit."""
    revoke_tokens(user.username)
    for membership in LabMembership.query(user.username):
        membership.delete()


def _responsible_for(users: list[User]) -> dict[str, list[str]]:
    """The subjects each user is responsible for (one pass over the subjects for the whole page)."""
    names = {user.username for user in users}
    found: dict[str, list[str]] = {name: [] for name in names}
    if not names:
        return found
    for subject in Subject.scan(
        Subject.responsible_user.is_in(*names), attributes_to_get=["nickname", "responsible_user"]
    ):
        found[subject.responsible_user].append(subject.nickname)
    return {name: sorted(subjects) for name, subjects in found.items()}


def _user_serialize(users: list[User], ctx: Context) -> list[dict[str, Any]]:
    responsible = _responsible_for(users)
    return [
        {
            "id": user.id,
            "url": ctx.url("users", user.username),
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_superuser": user.is_superuser,
            "is_public_user": user.is_public_user,
            "is_active": user.is_active,
            "is_stock_manager": bool(user.is_stock_manager),
            "allowed_users": list(user.allowed_users or []),
            "subjects_responsible": responsible.get(user.username, []),
            "lab": sorted(current_labs(user.username)),
        }
        for user in users
    ]


USERS = register(
    Resource(
        name="users",
        singular="user",
        model=User,
        key="username",
        description="Accounts; superusers create them, with the labs they belong to",
        fields=(
            Field("username", required=True, null=False, pattern=USERNAME.pattern.strip("^$")),
            Field("password", description="write only; stored as a scrypt hash"),
            Field("email"),
            Field("first_name"),
            Field("last_name"),
            Field("lab", "list", relation="labs", description="labs the user is a member of, from today"),
            Field("is_superuser", "boolean"),
            Field("is_public_user", "boolean"),
            Field("is_active", "boolean"),
            Field("is_stock_manager", "boolean"),
            Field("allowed_users", "list", relation="users"),
            Field("subjects_responsible", "list", read_only=True),
        ),
        params=(exact("username"), exact("email"), exact("is_public_user")),
        build=_user_build,
        change=_user_change,
        after_save=_user_memberships,
        before_delete=lambda user: _keep_a_superuser(user) if user.is_superuser and user.is_active else None,
        after_delete=_user_deleted,
        serialize_many=_user_serialize,
        ordering=lambda user: user.username,
    )
)

register(
    Resource(
        name="projects",
        singular="project",
        model=Project,
        key="name",
        description="Projects that group subjects and sessions across labs",
        fields=(name_field(), Field("description", "text"), Field("users", "list", relation="users")),
        params=(exact("name"), any_of("users")),
        ordering=lambda project: project.name,
    )
)


def _age_weeks(subject: Subject) -> int | None:
    if not subject.birth_date:
        return None
    end = datetime.date.fromisoformat(subject.death_date) if subject.death_date else datetime.date.today()
    return (end - datetime.date.fromisoformat(subject.birth_date)).days // 7


def subject_json(subject: Subject, ctx: Context, shared: set[str]) -> dict[str, Any]:
    """``url`` ends in the nickname, as Alyx's, unless another lab uses that nickname too (``shared``):
    then it ends in the uuid, so that it leads to this subject alone."""
    from chalicelib.husbandry import water_control_of

    values = subject.attribute_values
    key = subject.id if subject.nickname in shared else subject.nickname
    out = {"id": subject.id, "url": ctx.url("subjects", key)}
    out.update({f.name: values.get(f.name) for f in SUBJECT_FIELDS})
    out.setdefault("litter", values.get("litter"))
    out.setdefault("source", values.get("source"))
    out["alive"] = subject.death_date is None
    out["age_weeks"] = _age_weeks(subject)
    out["session_projects"] = sorted({p for s in sessions_of_subject(subject.nickname) for p in s.projects})
    out.update(water_control_of(subject))
    return out


def _subject_detail(subject: Subject, ctx: Context) -> dict[str, Any]:
    from chalicelib.husbandry import requirement_of
    from chalicelib.rest import REGISTRY

    out = subject_json(subject, ctx, shared_nicknames([subject.nickname]))
    requirement = requirement_of(subject)
    out.update(water_restricted=requirement.water_restricted, expected_weight=requirement.expected_weight)
    for name, model in (("weighings", Weighing), ("water_administrations", WaterAdministration)):
        records = sorted(model.by_subject.query(subject.id), key=lambda r: r.date_time)
        resource = REGISTRY[name.replace("_", "-")]
        out[name] = resource.serialize(records, ctx)
    return out


def _subject_build(data: dict[str, Any], ctx: Context) -> Subject:
    if not alf.is_valid_nickname(data["nickname"]):
        raise BadRequest(
            f"nickname: {data['nickname']!r} breaks the ALF rule (letters, digits, '.', '-', '_')"
        )
    return Subject(**data)


def _subject_list(subjects: list[Subject], ctx: Context) -> list[dict[str, Any]]:
    shared = shared_nicknames(subject.nickname for subject in subjects)
    return [subject_json(subject, ctx, shared) for subject in subjects]


def _subject_candidates(query: dict[str, str]) -> Any:
    if "nickname" in query:
        return subjects_referenced(query["nickname"])
    if "lab" in query:
        return Subject.by_lab.query(query["lab"])
    return None


SUBJECT_FIELDS = (
    Field("nickname", required=True, null=False, pattern=r"[\w.-]+"),
    Field("lab", required=True, null=False, relation="labs"),
    Field("responsible_user", relation="users"),
    Field("sex", choices=("M", "F", "U")),
    Field("birth_date", "date"),
    Field("death_date", "date"),
    Field("species", relation="species"),
    Field("strain", relation="strains"),
    Field("line", relation="lines"),
    Field("genotype", "json"),
    Field("projects", "list", relation="projects"),
    Field("description", "text"),
    Field("json", "json"),
    Field("source", relation="sources"),
    Field("litter", relation="litters"),
    Field("request", "uuid", relation="subject-requests"),
    Field("ear_mark"),
    Field("cage"),
    Field("wean_date", "date"),
    Field("genotype_date", "date", description="setting it clears to_be_genotyped"),
    Field("to_be_genotyped", "boolean"),
    Field("to_be_culled", "boolean"),
    Field("reduced_date", "date"),
    Field(
        "actual_severity", "integer", choices=(1, 2, 3, 4, 5), description="1 sub-threshold .. 5 non-recovery"
    ),
    Field("protocol_number", choices=("1", "2", "3", "4")),
    Field("adverse_effects"),
)


def _subject_change(subject: Subject, data: dict[str, Any], ctx: Context) -> None:
    """Alyx's rules on saving a subject (``chalicelib.colony.subjects``)."""
    before = dict(subject.attribute_values)
    for name, value in data.items():
        setattr(subject, name, value)
    record_changes(subject, before)
    old_user, new_user = before.get("responsible_user"), subject.responsible_user
    if old_user and new_user and old_user != new_user:
        from chalicelib.notifications import notify

        title = f"Responsible user of {subject.nickname} changed from {old_user} to {new_user}"
        notify("responsible_user_change", title, subject, users=[old_user, new_user])
    if subject.death_date and not before.get("death_date"):
        end_restrictions(subject, subject.death_date, ctx.principal.username if ctx.principal else None)


register(
    Resource(
        name="subjects",
        singular="subject",
        model=Subject,
        key="nickname",
        lab_scoped=True,
        description=(
            "The animals of a lab's colony; a nickname is unique within its lab. "
            "/subjects/<nickname> (?lab=<lab> when two labs use it) or /subjects/<id>"
        ),
        fields=SUBJECT_FIELDS,
        params=(
            exact("nickname"),
            exact("lab"),
            exact("responsible_user"),
            exact("sex"),
            exact("line"),
            exact("litter"),
            exact("cage"),
            exact("to_be_genotyped"),
            exact("to_be_culled"),
            any_of("projects"),
            any_of("project", "projects"),
            custom(
                "alive",
                lambda subject, value: (subject.death_date is None) == (value.lower() == "true"),
                "true: no death date; false: dead",
            ),
        ),
        get=lambda reference, scope: find_subject(reference, scope.get("lab")),
        build=_subject_build,
        change=_subject_change,
        candidates=_subject_candidates,
        serialize_many=_subject_list,
        serialize_detail=_subject_detail,
        ordering=lambda subject: (subject.lab, subject.nickname),
    )
)
