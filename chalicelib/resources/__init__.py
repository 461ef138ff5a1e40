"""The REST resources of the Alyx contract, declared one module per domain; importing this package
registers them all in ``chalicelib.rest.REGISTRY``."""

from chalicelib.resources import (
    breeding,
    catalogue,
    colony,
    experiments,
    genetics,
    histology,
    husbandry,
    notifications,
    pipeline,
)

__all__ = [
    "breeding",
    "catalogue",
    "colony",
    "experiments",
    "genetics",
    "histology",
    "husbandry",
    "notifications",
    "pipeline",
]
