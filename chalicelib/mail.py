"""Sending e-mail: Amazon SES in AWS; locally a folder of .eml files or an SMTP sink, never the internet.

``ONECLOUD_MAIL_DIR`` set: each message is written there as ``<time>-<id>.eml``. Else ``ONECLOUD_SMTP``
(``host:port``) set: sent to that SMTP server (a local sink such as ``python -m aiosmtpd -n``). Else SES,
from ``ONECLOUD_MAIL_FROM`` (an address SES has verified).
"""

from __future__ import annotations

import datetime
import os
import smtplib
from email.message import EmailMessage
from pathlib import Path

from chalicelib import aws

DEFAULT_SENDER = "onecloud@localhost"


def sender() -> str:
    return os.environ.get("ONECLOUD_MAIL_FROM", DEFAULT_SENDER)


def send(to: str, subject: str, body: str, *, reference: str) -> str:
    """Send one message; returns where it went (a file path, ``smtp:host:port`` or the SES message id).
    ``reference`` names the message (the notification id) in file names and headers."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender(), to, subject
    message["X-Onecloud-Notification"] = reference
    message.set_content(body)
    folder = os.environ.get("ONECLOUD_MAIL_DIR")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
        target = path / f"{stamp}-{reference}.eml"
        target.write_bytes(bytes(message))
        return str(target)
    sink = os.environ.get("ONECLOUD_SMTP")
    if sink:
        host, _, port = sink.rpartition(":")
        with smtplib.SMTP(host or "127.0.0.1", int(port), timeout=10) as smtp:
            smtp.send_message(message)
        return f"smtp:{sink}"
    answer = aws.client("ses").send_email(
        Source=sender(),
        Destination={"ToAddresses": [to]},
        Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": body}}},
    )
    return str(answer["MessageId"])
