"""Capturing the stand-in's log lines in a test: its logger put back afterwards, a stream that
counts flushes, and line parsing."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator

from fashion.serving.logs import lines as log

__all__ = ["PREFIX", "FlushCountingStream", "lines", "restored_logger", "text_of"]

#: TensorFlow's line prefix up to the level letter: ``2024-01-01 00:00:00.000000: ``.
PREFIX = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}: "


class FlushCountingStream(io.StringIO):
    """A log stream that counts its flushes: every line must be flushed as it is written."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def lines(stream: io.StringIO) -> list[str]:
    """The lines written to ``stream`` so far."""
    return stream.getvalue().splitlines()


def text_of(line: str) -> str:
    """A line's text after its ``file:line]`` prefix."""
    return line.split("] ", 1)[1]


@contextlib.contextmanager
def restored_logger() -> Iterator[logging.Logger]:
    """The stand-in's logger; its handlers, level and propagation are put back on exit."""
    logger = log.get_logger()
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield logger
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]
