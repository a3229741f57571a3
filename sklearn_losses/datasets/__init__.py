"""The papers' data-generating processes, all offline."""

__all__ = []
