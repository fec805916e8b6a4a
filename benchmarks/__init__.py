"""Benchmarks run by hand (``python -m benchmarks.<name>``); not collected by pytest."""

from __future__ import annotations

__all__: list[str] = []
