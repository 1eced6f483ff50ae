"""Export stage: per-view mask stacks in the formats restorers' tools read."""

from .base import EXPORTERS, export

__all__ = ["EXPORTERS", "export"]
