"""The stand-in's logger pointed at a stream of the test's, and put back as it was after."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from fashion.serving.logs import lines as log
from tests.standin.logs.capture import FlushCountingStream, restored_logger


@pytest.fixture
def restore_logger() -> Iterator[logging.Logger]:
    """The stand-in's logger; its handlers, level and propagation are restored after the test."""
    with restored_logger() as logger:
        yield logger


@pytest.fixture
def stream(restore_logger: logging.Logger) -> FlushCountingStream:
    """A stream the stand-in logs to for this test."""
    output = FlushCountingStream()
    log.configure_logging(output)
    return output
