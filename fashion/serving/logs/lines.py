"""Log lines in TensorFlow's format, written to stderr (``loader_harness.cc``, ``server.cc``).

Harnesses wait for TF Serving's log texts (``Successfully loaded servable version ...``,
``Exporting HTTP/REST API at:localhost:8501 ...``), so the stand-in writes the same messages with
the same line shape: ``YYYY-MM-DD HH:MM:SS.ffffff: I {source}:{line}] {message}``. The prefix
names the stand-in's own Python source and line (the real server names its C++ file); the spec
tells clients to match on the message, never the prefix.

Everything goes through the stdlib ``logging`` module (logger ``fashion.serving``), so lines
written from several threads never interleave and each one is flushed as it is written. Call
:func:`configure_logging` once in ``main``; nothing is configured at import time.

The real server's standard texts have their own helpers in :mod:`fashion.serving.logs.texts`.
"""

from __future__ import annotations

import datetime
import logging
import pathlib
import sys
from typing import TextIO

__all__ = [
    "LOGGER_NAME",
    "TensorFlowFormatter",
    "configure_logging",
    "get_logger",
    "write_line",
]

LOGGER_NAME = "fashion.serving"
"""Name of the logger every stand-in module writes to."""

_LEVEL_LETTERS: dict[int, str] = {
    logging.DEBUG: "I",  # TensorFlow's VLOG lines are printed with the INFO letter.
    logging.INFO: "I",
    logging.WARNING: "W",
    logging.ERROR: "E",
    logging.CRITICAL: "F",
}

_RAW_ATTRIBUTE = "fashion_raw"
"""``extra`` key that asks the formatter for the message without TensorFlow's prefix."""

# Frames between a helper's caller and ``Logger.log``: caller -> helper -> write_line -> log.
_HELPER_STACKLEVEL = 3


class TensorFlowFormatter(logging.Formatter):
    """Format records as TensorFlow's C++ logger does: local time, level letter, source:line.

    Paths are shown relative to the directory that holds the ``fashion`` package, so a line
    reads ``... I fashion/serving/server.py:120] ...`` like TF's ``tensorflow_serving/...`` paths.
    """

    def __init__(self) -> None:
        super().__init__()
        self._root = pathlib.Path(__file__).resolve().parents[3]

    def format(self, record: logging.LogRecord) -> str:
        """Render one record; raw records (``NET_LOG`` style) get no prefix."""
        message = record.getMessage()
        if getattr(record, _RAW_ATTRIBUTE, False):
            return message
        stamp = datetime.datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S.%f")
        letter = _level_letter(record.levelno)
        line = f"{stamp}: {letter} {self._source(record.pathname)}:{record.lineno}] {message}"
        if record.exc_info:  # ``logger.exception``: the cause belongs in the log
            line += "\n" + self.formatException(record.exc_info)
        return line

    def _source(self, pathname: str) -> str:
        path = pathlib.Path(pathname)
        try:
            return path.resolve().relative_to(self._root).as_posix()
        except ValueError:
            return path.name


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that looks ``sys.stderr`` up at each write.

    Test runners and daemonising code replace ``sys.stderr``; a handler that kept the object it
    saw at start-up would write into a closed or captured stream.
    """

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self._follow_stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        """Write and flush one line (``Handler.handle`` holds the lock around this call)."""
        if self._follow_stderr:
            self.stream = sys.stderr
        super().emit(record)


def _level_letter(levelno: int) -> str:
    if levelno >= logging.CRITICAL:
        return "F"
    if levelno >= logging.ERROR:
        return "E"
    if levelno >= logging.WARNING:
        return "W"
    return _LEVEL_LETTERS.get(levelno, "I")


def get_logger() -> logging.Logger:
    """Return the stand-in's logger (``fashion.serving``)."""
    return logging.getLogger(LOGGER_NAME)


def configure_logging(stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Send the stand-in's log lines to stderr (or ``stream``) in TensorFlow's format.

    Calling it again replaces the handler it installed before, so tests can redirect the output.

    Args:
        stream: where to write; ``None`` means the current ``sys.stderr`` at each write.
        level: the lowest level written.

    Returns:
        The installed handler.
    """
    logger = get_logger()
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler):
            logger.removeHandler(handler)
    handler = _StderrHandler(stream)
    handler.setFormatter(TensorFlowFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler


def write_line(level: int, message: str, *, raw: bool = False, exc_info: bool = False) -> None:
    """Write one line whose prefix names the caller of the function that calls this one.

    For helpers such as :func:`info` and those of :mod:`fashion.serving.logs.texts`: the
    line points at the code that asked for the message, not at the helper.

    Args:
        level: a :mod:`logging` level.
        message: the text after the prefix.
        raw: write ``message`` alone, without TensorFlow's prefix (``NET_LOG`` lines).
        exc_info: add the traceback of the exception being handled.
    """
    get_logger().log(
        level,
        "%s",
        message,
        stacklevel=_HELPER_STACKLEVEL,
        extra={_RAW_ATTRIBUTE: raw},
        exc_info=exc_info,
    )
