"""Form bodies as browsers and ``requests`` send them: url-encoded fields, and multipart with files."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from chalicelib.errors import BadRequest


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart form."""

    filename: str
    content_type: str
    data: bytes


def parse_form(raw: bytes, content_type: str) -> dict[str, list[Any]]:
    """Field -> its values (text, or ``Upload`` for a file; an empty file input is left out). A form
    whose text is not UTF-8 is a 400."""
    try:
        if content_type.startswith("multipart/form-data"):
            return _multipart(raw, content_type)
        return {k: list(v) for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8 text") from None


def _multipart(raw: bytes, content_type: str) -> dict[str, list[Any]]:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    fields: dict[str, list[Any]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields.setdefault(name, []).append(payload.decode())
        elif filename and payload:
            fields.setdefault(name, []).append(Upload(filename, part.get_content_type(), payload))
    return fields
