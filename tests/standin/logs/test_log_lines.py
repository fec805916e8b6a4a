"""Log lines in TensorFlow's format: prefix, levels, flushing, threads, handlers, tracebacks.

The prefix is TensorFlow's logger (``2024-01-01 00:00:00.000000: I file.py:12] text``), naming
the file and line that logged, as the real server's names its C++ source; every line is flushed
as it is written, and lines from several threads never interleave.
"""

from __future__ import annotations

import inspect
import io
import logging
import re
import threading
from collections.abc import Callable

import pytest

from fashion.serving.logs import lines as log
from fashion.serving.logs import texts as log_messages
from tests.standin.logs.capture import PREFIX, FlushCountingStream, lines, text_of

_THIS_FILE = "tests/standin/logs/test_log_lines.py"


def _writer(level: int) -> Callable[[str], None]:
    """A one-line helper as the catalogue's are: ``write_line`` names the helper's caller."""

    def write(message: str) -> None:
        log.write_line(level, message)

    return write


info, warning, error, fatal = (
    _writer(level) for level in (logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)
)


def test_info_line_has_tensorflow_prefix_naming_the_calling_file_and_line(
    stream: FlushCountingStream,
) -> None:
    line_number = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    info("Running things")

    (line,) = lines(stream)
    assert re.fullmatch(rf"{PREFIX}I {_THIS_FILE}:{line_number}\] Running things", line), line


@pytest.mark.parametrize(
    ("write", "letter"),
    [(info, "I"), (warning, "W"), (error, "E"), (fatal, "F")],
)
def test_each_level_is_written_with_its_tensorflow_letter(
    stream: FlushCountingStream, write: Callable[[str], None], letter: str
) -> None:
    write("text")

    (line,) = lines(stream)
    assert re.fullmatch(rf"{PREFIX}{letter} {_THIS_FILE}:\d+\] text", line), line


def test_every_line_is_flushed_as_it_is_written(stream: FlushCountingStream) -> None:
    info("one")
    flushes_after_one = stream.flushes
    info("two")

    assert flushes_after_one >= 1
    assert stream.flushes > flushes_after_one


def test_lines_from_several_threads_never_interleave(stream: FlushCountingStream) -> None:
    def write(worker: int) -> None:
        for index in range(50):
            info(f"worker {worker} line {index} " + "x" * 200)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    written = lines(stream)
    assert len(written) == 200
    pattern = re.compile(rf"{PREFIX}I {_THIS_FILE}:\d+\] worker \d line \d+ x{{200}}")
    assert all(pattern.fullmatch(line) for line in written)


def test_configuring_twice_replaces_the_handler_instead_of_duplicating_lines(
    restore_logger: logging.Logger,
) -> None:
    first, second = io.StringIO(), io.StringIO()
    log.configure_logging(first)
    log.configure_logging(second)

    info("once")

    assert first.getvalue() == ""
    assert len(lines(second)) == 1


def test_default_stream_is_the_current_stderr(
    restore_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    log.configure_logging()

    log_messages.exporting_rest_api(8501)

    captured = capsys.readouterr()
    assert captured.out == ""
    assert text_of(captured.err.strip()) == "Exporting HTTP/REST API at:localhost:8501 ..."


def test_lines_below_the_configured_level_are_not_written(restore_logger: logging.Logger) -> None:
    output = io.StringIO()
    log.configure_logging(output, level=logging.WARNING)

    info("quiet")
    warning("loud")

    assert [text_of(line) for line in lines(output)] == ["loud"]


def test_an_exception_logged_with_its_cause_carries_the_traceback(
    stream: FlushCountingStream,
) -> None:
    try:
        raise KeyError("missing piece")
    except KeyError:
        log_messages.unexpected_request_error("POST", "/v1/models/m:predict")

    first, *rest = lines(stream)
    assert re.fullmatch(
        rf"{PREFIX}E {_THIS_FILE}:\d+\] Unexpected error handling POST /v1/models/m:predict", first
    ), first
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "KeyError: 'missing piece'"
