"""``GET /health``: open to everyone, it says the service is up and what it runs on."""

from chalice import Blueprint

from chalicelib import status
from chalicelib.handlers.edge import route

bp = Blueprint(__name__)


@route(bp, "/health", methods=["GET"], anonymous=True, openapi={"errors": ()})
def health() -> dict:
    return status.health()
