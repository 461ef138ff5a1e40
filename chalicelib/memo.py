"""What a request or an event batch looks up once: a list of records names the same subject and lab, an
event batch's files the same session, lab and upload intent. Nothing is kept beyond the one request."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Memo:
    def __init__(self) -> None:
        self._found: dict[Hashable, Any] = {}

    def remember(self, key: Hashable, look_up: Callable[[], T]) -> T:
        """``look_up()`` the first time ``key`` is asked for; its answer after (an error is not kept)."""
        if key not in self._found:
            self._found[key] = look_up()
        return self._found[key]
