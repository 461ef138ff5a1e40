"""The local scheduler: runs the app's ``@app.schedule`` handlers when EventBridge would, with its event
shape (``rate(N unit)``, and ``cron(minute hour * * ? *)`` with numbers or ``*`` in minute and hour)."""

from __future__ import annotations

import datetime
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from chalice import Chalice
from chalice.app import ScheduledEventConfig

from chalicelib import aws
from chalicelib.observability import logger
from onecloud.pump import LambdaContext

UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


@dataclass
class Schedule:
    name: str
    expression: str

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first firing strictly after ``moment`` (UTC)."""
        rate = re.fullmatch(r"rate\((\d+) (\w+)\)", self.expression)
        if rate:
            return moment + datetime.timedelta(seconds=int(rate.group(1)) * UNITS[rate.group(2)])
        cron = re.fullmatch(r"cron\((\S+) (\S+) \S+ \S+ \S+ \S+\)", self.expression)
        if not cron:
            raise ValueError(f"unsupported schedule {self.expression!r}")
        minutes = range(60) if cron.group(1) == "*" else [int(cron.group(1))]
        hours = range(24) if cron.group(2) == "*" else [int(cron.group(2))]
        candidate = moment.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
        for _ in range(2 * 24 * 60):
            if candidate.minute in minutes and candidate.hour in hours:
                return candidate
            candidate += datetime.timedelta(minutes=1)
        raise ValueError(f"schedule {self.expression!r} never fires")


def schedules(app: Chalice) -> list[Schedule]:
    return [
        Schedule(config.name, _text(config.schedule_expression))
        for config in app.event_sources
        if isinstance(config, ScheduledEventConfig)
    ]


def _text(expression: Any) -> str:
    """Chalice keeps ``Rate``/``Cron`` objects, or the string it was given."""
    return expression if isinstance(expression, str) else expression.to_string()


def event(name: str, moment: datetime.datetime) -> dict[str, Any]:
    region = aws.settings().region
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:000000000000:rule/{name}"],
        "detail": {},
    }


class Scheduler:
    def __init__(self, app: Chalice) -> None:
        self.app = app
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def fire(self, name: str, moment: datetime.datetime) -> None:
        try:
            self.app.handler_map[name](event(name, moment), LambdaContext(name))
        except Exception:
            logger.exception("scheduled handler failed", handler=name)

    def _run(self) -> None:
        now = datetime.datetime.now(datetime.UTC)
        due = {s.name: s.next_after(now) for s in schedules(self.app)}
        by_name = {s.name: s for s in schedules(self.app)}
        while due and not self._stop.is_set():
            name, moment = min(due.items(), key=lambda item: item[1])
            wait = (moment - datetime.datetime.now(datetime.UTC)).total_seconds()
            if wait > 0 and self._stop.wait(min(wait, 60)):
                return
            if datetime.datetime.now(datetime.UTC) < moment:
                continue
            self.fire(name, moment)
            due[name] = by_name[name].next_after(moment)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
