"""One module per kind of page. Every module of this package is imported here, which registers its pages
and navigation entries: adding a page is adding a module."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
