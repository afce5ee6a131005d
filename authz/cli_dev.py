"""`authz dev …`: development simulators and outboxes (the development adapters' side of each port)."""
from __future__ import annotations

import click


@click.group("dev", help="development simulators and outboxes")
def dev() -> None:
    """Commands are added by the modules that own each development adapter."""
