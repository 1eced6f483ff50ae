"""Export stage: per-view mask stacks in the formats restorers' tools read."""

from .base import EXPORTERS, KEEP_CHOICES, ExportOptions, export, get_writer, iter_view_masks, original_mask

__all__ = ["EXPORTERS", "KEEP_CHOICES", "ExportOptions", "export", "get_writer", "iter_view_masks", "original_mask"]
