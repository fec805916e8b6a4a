"""What the texts of both halves render alike: a servable's id and a status.

Written as TF Serving prints them (``{name: m version: 1}``, ``NOT_FOUND: text``), so a harness
matching a line of one half matches the same id in the other.
"""

from __future__ import annotations

from fashion.serving.status import ServingStatusError

__all__ = ["servable_id", "status_text"]


def status_text(status: str | ServingStatusError) -> str:
    """A status as TF Serving's ``Status::ToString`` prints it; a string is taken as printed."""
    if isinstance(status, ServingStatusError):
        return status.as_status_text()
    return status


def servable_id(model: str, version: int) -> str:
    """Render a servable id as TF Serving does: ``{name: m version: 1}``."""
    return f"{{name: {model} version: {version}}}"
