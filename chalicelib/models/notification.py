"""Notifications (one per recipient, so a user's list is one query) and the rules choosing recipients."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.models.base import BaseModel, TableMeta, new_id, now
from chalicelib.models.unique import guard


class NotificationsByUser(GlobalSecondaryIndex["Notification"]):
    class Meta:
        index_name = "user-index"
        projection = AllProjection()

    user = UnicodeAttribute(hash_key=True)
    date_time = UnicodeAttribute(range_key=True)


class NotificationsBySubject(GlobalSecondaryIndex["Notification"]):
    class Meta:
        index_name = "subject-index"
        projection = AllProjection()

    subject_id = UnicodeAttribute(hash_key=True)
    date_time = UnicodeAttribute(range_key=True)


class Notification(BaseModel):
    class Meta(TableMeta):
        table = "notifications"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    user = UnicodeAttribute()  # the recipient
    kind = UnicodeAttribute()
    title = UnicodeAttribute()
    message = UnicodeAttribute(default="")
    subject = UnicodeAttribute(null=True)
    subject_id = UnicodeAttribute(default="-")
    lab = UnicodeAttribute(null=True)
    date_time = UnicodeAttribute(default=now)
    status = UnicodeAttribute(default="to-send")  # to-send, sent, no-send (no address, or failed 3 times)
    sent_at = UnicodeAttribute(null=True)
    failed_attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)

    by_user = NotificationsByUser()
    by_subject = NotificationsBySubject()


class NotificationRule(BaseModel):
    """A user's choice of which subjects' notifications of one kind reach them: none, mine, lab, all."""

    class Meta(TableMeta):
        table = "notification-rules"

    id = UnicodeAttribute(hash_key=True, default=new_id)
    user = UnicodeAttribute()
    kind = UnicodeAttribute()
    scope = UnicodeAttribute()

    @property
    def unique_keys(self) -> list[str]:
        return [guard("notification-rule", f"{self.user}/{self.kind}")]
