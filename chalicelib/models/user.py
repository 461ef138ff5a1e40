"""Accounts, their lab memberships and their API tokens."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id, now


class User(BaseModel):
    class Meta(TableMeta):
        table = "users"

    username = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(default=new_id)
    email = UnicodeAttribute(default="")
    first_name = UnicodeAttribute(default="")
    last_name = UnicodeAttribute(default="")
    password_hash = UnicodeAttribute(default="")
    is_superuser = BooleanAttribute(default=False)
    is_public_user = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)
    date_joined = UnicodeAttribute(default=now)
    is_stock_manager = BooleanAttribute(default=False)
    allowed_users = ListAttribute(of=UnicodeAttribute, default=list)  # who may act on their behalf


class MembersByLab(GlobalSecondaryIndex["LabMembership"]):
    class Meta:
        index_name = "lab-index"
        projection = AllProjection()

    lab = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute(range_key=True)


class LabMembership(BaseModel):
    """A user's membership of a lab, with its role and dates (Alyx's LabMembership)."""

    class Meta(TableMeta):
        table = "lab-memberships"

    username = UnicodeAttribute(hash_key=True)
    lab = UnicodeAttribute(range_key=True)
    role = UnicodeAttribute(default="member")
    start_date = UnicodeAttribute(null=True)
    end_date = UnicodeAttribute(null=True)
    by_lab = MembersByLab()


class TokensByUser(GlobalSecondaryIndex["AuthToken"]):
    class Meta:
        index_name = "username-index"
        projection = AllProjection()

    username = UnicodeAttribute(hash_key=True)


class AuthToken(BaseModel):
    """Only the hash of a token is stored: a leaked table does not leak credentials. The index by user
    lets deleting or deactivating an account revoke every token it holds."""

    class Meta(TableMeta):
        table = "auth-tokens"

    token_hash = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    created = UnicodeAttribute(default=now)
    by_username = TokensByUser()
