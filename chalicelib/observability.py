"""Structured JSON logging (Powertools) shared by every handler, batch job and the local stack."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from chalicelib.aws import settings

logger = Logger(service="onecloud", level=settings().log_level)
