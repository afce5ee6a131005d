"""Flows: plain functions taking domain objects and ports, called by the REST layer and the CLI alike."""
