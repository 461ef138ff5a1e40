"""The lab's web pages under ``/ui/``: colony management and the electronic lab notebook in a browser.

``pages.py`` is the machinery (routing, sessions, CSRF, rendering); ``views/`` holds one module per kind
of page; ``templates/`` the Jinja2 templates; ``static/`` the CSS, JS and images the pages load (served by
the app itself, never from a CDN); ``charts.py`` draws charts as SVG. Importing this package registers
every page on ``bp``.
"""

from chalicelib.web import views  # noqa: F401 - registers every page
from chalicelib.web.pages import bp

__all__ = ["bp"]
