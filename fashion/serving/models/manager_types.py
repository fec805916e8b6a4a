"""Values the model manager exchanges with its callers: options, handles, start-up failures.

Kept apart from :mod:`fashion.serving.models.manager`, and free of TensorFlow, so that the front
doors and the command line can name these types without the manager's machinery. What the
manager serves is anything with a ``close()`` (:class:`Unloadable`); the loader given to the
manager decides what that is (the stand-in's: :func:`fashion.serving.runtime.loader.load_version`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from fashion.serving.logs.texts import servable_id
from fashion.serving.status import ServingStatusError

__all__ = [
    "LoadFailure",
    "Loader",
    "ManagerOptions",
    "S",
    "ServableHandle",
    "Unloadable",
    "describe_unavailable",
]


class Unloadable(Protocol):
    """What the manager serves: a loaded version it releases with ``close()`` when unloading."""

    def close(self) -> None:
        """Release the version's resources (called once no request holds it)."""


S = TypeVar("S", bound=Unloadable)
"""The type of the served versions: what the manager's loader returns."""

Loader = Callable[[str], S]
"""Loads a version directory; raises ``ServingStatusError`` when the load fails."""


@dataclasses.dataclass(frozen=True)
class ManagerOptions:
    """The model-management flags of the server (``main.cc``), with the binary's defaults.

    Attributes:
        file_system_poll_wait_seconds: seconds between scans; 0 scans once, negative never.
            May be fractional (tests).
        num_load_threads: load threads after start-up (0 = in the manager thread).
        num_unload_threads: unload threads (0 = in the manager thread).
        num_initial_load_threads: load threads during start-up (4 x CPUs in TF Serving).
        max_num_load_retries: retries after a failed load.
        load_retry_interval_micros: pause between load attempts.
        manage_state_interval_seconds: the manager round period (100 ms in TF Serving).
        allow_version_labels_for_unavailable_models: the flag of the same name.
    """

    file_system_poll_wait_seconds: float = 1.0
    num_load_threads: int = 0
    num_unload_threads: int = 0
    num_initial_load_threads: int = dataclasses.field(
        default_factory=lambda: 4 * (os.cpu_count() or 1)
    )
    max_num_load_retries: int = 5
    load_retry_interval_micros: int = 60_000_000
    manage_state_interval_seconds: float = 0.1
    allow_version_labels_for_unavailable_models: bool = False


@dataclasses.dataclass(frozen=True)
class LoadFailure:
    """A model whose awaited load ended without an AVAILABLE version.

    Attributes:
        model: model name.
        version: the version that ended.
        error: its load error, or None if it ended with OK.
    """

    model: str
    version: int
    error: ServingStatusError | None


def describe_unavailable(failures: Sequence[LoadFailure], noun: str = "servable") -> str:
    """TF Serving's summary, e.g. ``1 servable(s) did not become available: {{name: m ...}, }``.

    Args:
        failures: what :meth:`ModelManager.wait_until_initial_load` returned.
        noun: ``servable`` at start-up, ``model`` for a config reload.
    """
    parts = []
    for failure in sorted(failures, key=lambda f: (f.model, f.version)):
        due = f" due to error: {failure.error.as_status_text()}" if failure.error else ""
        parts.append(f"{{{servable_id(failure.model, failure.version)}{due}}}, ")
    return f"{len(failures)} {noun}(s) did not become available: {{{''.join(parts)}}}"


@dataclasses.dataclass(frozen=True)
class ServableHandle(Generic[S]):
    """What :meth:`ModelManager.acquire` yields: the resolved version and its servable.

    Attributes:
        model: model name.
        version: the version that answers.
        servable: the loaded version, held until the ``acquire`` block ends.
    """

    model: str
    version: int
    servable: S
