"""The REST resources of the Alyx contract, declared one module per domain; importing this package
registers them all in ``chalicelib.rest.REGISTRY``."""

from chalicelib.resources import catalogue, colony, experiments, husbandry, pipeline

__all__ = ["catalogue", "colony", "experiments", "husbandry", "pipeline"]
