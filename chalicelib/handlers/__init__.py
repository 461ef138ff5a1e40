"""Thin Chalice blueprints and event handlers: parse, authorise, call the domain, shape the answer."""
