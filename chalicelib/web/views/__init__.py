"""One module per kind of page; importing them registers their routes and navigation entries."""

from chalicelib.web.views import auth, home, husbandry, subjects

__all__ = ["auth", "home", "husbandry", "subjects"]
