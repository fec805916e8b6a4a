"""A harness for the stand-in's model manager, in-process: fast options, a log and state recorder
that waits on what it saw, a scan counter, the manager's answers as plain tuples, and a manager
serving a few tiny models for the REST layer's tests.

Waits are driven by state transitions and log lines, never by sleeping; where a test must show
that something does *not* happen it waits for a number of scanner rounds, counted by a
:class:`Ticker`. Imports TensorFlow (through the manager).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from fashion.serving.models.manager import ManagerOptions, ModelManager
from fashion.serving.models.model_spec import ModelSpec
from fashion.serving.models.version_states import VersionStatus
from fashion.serving.runtime.loader import load_version
from fashion.serving.status import Code, ServingStatusError
from tests.support.example_models import write_example_parser_model
from tests.support.savedmodels import (
    write_blocking_queue_model,
    write_edge_signatures_model,
    write_elementwise_affine_model,
)
from tests.support.status_errors import status_error

__all__ = [
    "FAST",
    "LOADER",
    "ODD_METHOD_NAME",
    "TINY_MODELS",
    "WAIT_SECONDS",
    "Recorder",
    "Ticker",
    "available",
    "ended",
    "not_found",
    "not_found_text",
    "place",
    "predict",
    "serving_tiny_models",
    "start_error",
    "status",
]

#: Options that make the manager scan and decide in tens of milliseconds, and fail loads at once.
FAST = ManagerOptions(
    file_system_poll_wait_seconds=0.05,
    manage_state_interval_seconds=0.02,
    num_initial_load_threads=2,
    max_num_load_retries=0,
    load_retry_interval_micros=10_000,
)

#: What the stand-in's manager is given to load versions (TF1 loader, then warm-up).
LOADER = load_version

#: Seconds any awaited transition may take.
WAIT_SECONDS = 10.0

#: A version's state as the status API shows it: (version, state, error code, error message).
StatusRow = tuple[int, str, str, str]


def not_found_text(path: Path) -> str:
    """TensorFlow's load error for a version directory without ``saved_model.pb``."""
    return (
        "Could not find SavedModel .pb or .pbtxt at supplied export directory path: "
        f"{path}. Check that the directory exists and that you have the right permissions for "
        "accessing it."
    )


class Recorder(logging.Handler):
    """Collects log lines and state transitions, and waits for conditions on them."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._cond = threading.Condition()
        self.messages: list[str] = []
        self.events: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        with self._cond:
            self.messages.append(record.getMessage())
            self._cond.notify_all()

    def on_state(self, status: VersionStatus) -> None:
        """A state listener for :meth:`ModelManager.add_state_listener`."""
        with self._cond:
            self.events.append((status.model, status.version, status.state.value))
            self._cond.notify_all()

    def count(self, message: str) -> int:
        """How many times ``message`` was logged so far."""
        with self._cond:
            return self.messages.count(message)

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        """Wait until ``predicate()`` holds, re-checking after each log line or transition.

        Raises:
            AssertionError: not within :data:`WAIT_SECONDS`; names ``what``.
        """
        deadline = time.monotonic() + WAIT_SECONDS
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {WAIT_SECONDS} s waiting for {what}")
                self._cond.wait(remaining)

    def wait_for_message(self, message: str, times: int = 1) -> None:
        """Wait until ``message`` was logged ``times`` times."""
        self.wait_for(lambda: self.messages.count(message) >= times, f"log line {message!r}")

    def wait_for_status(self, manager: ModelManager, model: str, rows: list[StatusRow]) -> None:
        """Wait until the status API shows exactly ``rows`` for ``model`` (see :func:`status`)."""
        self.wait_for(lambda: status(manager, model) == rows, f"the status of {model}: {rows}")


@dataclasses.dataclass
class Ticker:
    """A model with an empty base path: each scan logs one warning, which counts scans."""

    spec: ModelSpec
    recorder: Recorder

    @property
    def line(self) -> str:
        """The warning each scan logs (``file_system_storage_path_source.cc``)."""
        return (
            f"No versions of servable ticker found under base path {self.spec.base_path}. Did "
            "you forget to name your leaf directory as a number (eg. '/1/')?"
        )

    def wait_scans(self, scans: int = 3) -> None:
        """Wait for ``scans`` more scans of the file system."""
        self.recorder.wait_for_message(self.line, self.recorder.count(self.line) + scans)


def place(build: Path, base: Path, version: int | str) -> Path:
    """Copy a version in under a temporary name, then rename it into place (atomic)."""
    base.mkdir(parents=True, exist_ok=True)
    staging = base / f"staging-{version}"
    shutil.copytree(build, staging)
    target = base / str(version)
    os.rename(staging, target)
    return target


def status(manager: ModelManager, model: str) -> list[StatusRow]:
    """The status API's view: (version, state, error code, error message), highest first."""
    try:
        response = manager.model_status(model)
    except ServingStatusError:
        return []
    return [
        (
            entry.version,
            type(entry).State.Name(entry.state),
            Code(entry.status.error_code).name,
            entry.status.error_message,
        )
        for entry in response.model_version_status
    ]


def available(*versions: int) -> list[StatusRow]:
    """Status rows of AVAILABLE versions."""
    return [(v, "AVAILABLE", "OK", "") for v in versions]


def ended(version: int) -> StatusRow:
    """The status row of a version unloaded without error."""
    return (version, "END", "OK", "")


def predict(manager: ModelManager, model: str, **selector: object) -> tuple[int, float]:
    """Run ``x = [1]`` through the resolved version: (version, y)."""
    with manager.acquire(model, **selector) as handle:
        result = handle.servable.run("serving_default", {"x": np.array([1.0], np.float32)}, 5000)
        return handle.version, float(result["y"][0])


def not_found(manager: ModelManager, model: str, **selector: object) -> str:
    """Check that the request is a 404 NOT_FOUND; returns its message."""
    error = status_error(predict, manager, model, **selector)
    assert (error.code, error.http_status) == (Code.NOT_FOUND, 404), error
    return error.message


def start_error(models: list[ModelSpec]) -> ServingStatusError:
    """The error with which a manager of ``models`` (:data:`FAST` options) refuses to start.

    The manager is stopped whether it refuses or not.
    """
    manager = ModelManager(models, LOADER, FAST)
    try:
        return status_error(manager.start)
    finally:
        manager.stop()


#: The method name of ``odd_method``'s signature: none of the three that predict accepts with
#: ``--enable_signature_method_name_check`` (``servables/tensorflow/predict_util.cc``).
ODD_METHOD_NAME = "tensorflow/serving/odd"

#: The models :func:`serving_tiny_models` serves, each as version 1.
TINY_MODELS = ("half", "parser", "edge", "blocking", "odd_method")


@contextlib.contextmanager
def serving_tiny_models(root: Path) -> Iterator[ModelManager]:
    """A started manager serving :data:`TINY_MODELS` from ``root``; stopped on exit.

    - ``half``: ``y = 0.5 x + 2`` on a float ``x`` of any shape (TF Serving's "half plus two");
    - ``parser``: classify and regress on tf.Examples (``write_example_parser_model``);
    - ``edge``: a default signature without inputs, and others (``write_edge_signatures_model``);
    - ``blocking``: a predict that waits on a queue nothing fills (it ends at its deadline);
    - ``odd_method``: ``half``'s arithmetic under the method name :data:`ODD_METHOD_NAME`.

    The base paths are scanned once: nothing changes on disk.

    Raises:
        AssertionError: a model did not become AVAILABLE.
    """
    write_elementwise_affine_model(root / "half" / "1", 0.5, 2.0)
    write_example_parser_model(root / "parser" / "1")
    write_edge_signatures_model(root / "edge" / "1")
    write_blocking_queue_model(root / "blocking" / "1")
    write_elementwise_affine_model(root / "odd_method" / "1", 0.5, 2.0, method_name=ODD_METHOD_NAME)
    options = dataclasses.replace(FAST, file_system_poll_wait_seconds=0)
    manager = ModelManager(
        [ModelSpec(name, str(root / name)) for name in TINY_MODELS], LOADER, options
    )
    try:
        manager.start()
        assert manager.wait_until_initial_load(WAIT_SECONDS) == []
        yield manager
    finally:
        manager.stop()
