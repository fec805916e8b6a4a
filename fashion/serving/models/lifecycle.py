"""Loading, serving and unloading versions: TF Serving's AspiredVersionsManager and BasicManager.

The scanner hands over each model's aspired versions; every manager round (about 100 ms) flushes
finished versions, takes in the aspired sets, asks the AvailabilityPreservingPolicy for one action
and starts it. Loads run with retries on a load executor (inline in the manager thread when it has
no threads), unloads wait for in-flight requests, and each transition is published to the
:class:`~fashion.serving.models.version_states.StateMonitor` and logged with TF Serving's
texts (``aspired_versions_manager.cc``, ``basic_manager.cc``, ``loader_harness.cc``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Generic

from fashion.serving.logs import texts as log
from fashion.serving.models.executors import Executor, Workers
from fashion.serving.models.manager_types import Loader, S
from fashion.serving.models.policy import (
    Action,
    ActionKind,
    HarnessState,
    VersionSnapshot,
    choose_action,
    next_action,
)
from fashion.serving.models.version_states import StateMonitor, VersionState
from fashion.serving.status import Code, ServingStatusError

__all__ = ["LoaderHarness", "VersionLifecycle"]


_FLUSHABLE = (HarnessState.NEW, HarnessState.DISABLED, HarnessState.ERROR)


@dataclasses.dataclass(eq=False)
class LoaderHarness(Generic[S]):
    """One managed version (TF Serving's ``LoaderHarness``): its state, its servable once
    loaded, and its in-flight requests."""

    model: str
    version: int
    path: str
    state: HarnessState = HarnessState.NEW
    aspired: bool = True
    serving: bool = False
    servable: S | None = None
    refs: int = 0
    cancelled: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def id(self) -> str:
        """The servable id as TF Serving logs it."""
        return log.servable_id(self.model, self.version)


class VersionLifecycle(Generic[S]):
    """Owns every managed version and drives it through load, serve and unload.

    Args:
        monitor: where state transitions are published.
        loader: loads a version directory.
        max_num_load_retries: retries after a failed load attempt.
        load_retry_interval_micros: pause between attempts (negative = none).
        num_load_threads: load executor size (0 = inline in the manager thread).
        num_unload_threads: unload executor size (0 = inline).
        stop: set when the whole manager stops.
    """

    def __init__(
        self,
        monitor: StateMonitor,
        loader: Loader[S],
        *,
        max_num_load_retries: int,
        load_retry_interval_micros: int,
        num_load_threads: int,
        num_unload_threads: int,
        stop: threading.Event,
    ) -> None:
        self._monitor = monitor
        self._loader = loader
        self._max_retries = max(max_num_load_retries, 0)
        self._retry_interval = max(load_retry_interval_micros, 0) / 1e6
        self._stop = stop
        self._cond = threading.Condition(threading.RLock())
        self._decision_lock = threading.Lock()
        self._harnesses: dict[str, dict[int, LoaderHarness[S]]] = {}
        self._pending: dict[str, dict[int, str]] = {}
        self._workers = Workers()
        self._load_executor = Executor(
            num_load_threads, stop, "fashion-serving-load", self._workers
        )
        self._unload_executor = Executor(
            num_unload_threads, stop, "fashion-serving-unload", self._workers
        )

    # ----------------------------------------------------------------- inputs from the source
    def set_aspired_versions(self, model: str, versions: Mapping[int, str]) -> None:
        """Queue a model's full aspired set (version -> path); the next round takes it in."""
        with self._cond:
            self._pending[model] = dict(versions)

    def set_num_load_threads(self, num_threads: int) -> None:
        """Resize the load executor (start-up loads use more threads than later ones)."""
        with self._cond:
            self._load_executor = Executor(
                num_threads, self._stop, "fashion-serving-load", self._workers
            )

    # ------------------------------------------------------------------------ manager round
    def manage_round(self) -> None:
        """One manager round: flush, take in aspired sets, start at most one action."""
        with self._cond:
            self._flush()
            started = self._handle_pending()
            action = choose_action(
                [next_action(model, self._snapshots(model)) for model in sorted(self._harnesses)]
            )
            task = self._start_action(action) if action is not None else None
        # Publish outside the lock: listeners may call back into the manager.
        for model, version in started:
            self._monitor.publish(model, version, VersionState.START)
        if task is not None:
            task()

    def _snapshots(self, model: str) -> list[VersionSnapshot]:
        return [
            VersionSnapshot(h.version, h.state, h.aspired)
            for h in self._harnesses.get(model, {}).values()
        ]

    def _flush(self) -> None:
        """Forget versions that are done with (never loaded, unloaded or failed) and unaspired."""
        for model in list(self._harnesses):
            versions = self._harnesses[model]
            for version in [
                v for v, h in versions.items() if h.state in _FLUSHABLE and not h.aspired
            ]:
                del versions[version]
            if not versions:
                del self._harnesses[model]

    def _handle_pending(self) -> list[tuple[str, int]]:
        """Take in queued aspired sets; return the versions that start being managed."""
        started: list[tuple[str, int]] = []
        for model in list(self._pending):
            aspired = self._pending[model]
            versions = self._harnesses.get(model, {})
            # A version coming back while its old incarnation is still managed must wait until
            # that one is unloaded and flushed (``ContainsAnyReaspiredVersions``).
            if any(v in aspired and not h.aspired for v, h in versions.items()):
                continue
            del self._pending[model]
            for version, harness in versions.items():
                if version not in aspired:
                    harness.aspired = False
                    harness.cancelled.set()
            for version in sorted(aspired):
                if version not in versions:
                    harness = LoaderHarness(model, version, aspired[version])
                    self._harnesses.setdefault(model, {})[version] = harness
                    started.append((model, version))
        return started

    def _start_action(self, action: Action) -> Callable[[], None]:
        harness = self._harnesses[action.model][action.version]
        if action.kind is ActionKind.LOAD:
            harness.state = HarnessState.LOAD_REQUESTED
            executor = self._load_executor
            return lambda: executor.submit(lambda: self._execute_load(harness))
        harness.state = HarnessState.UNLOAD_REQUESTED
        executor = self._unload_executor
        return lambda: executor.submit(lambda: self._execute_unload(harness))

    # -------------------------------------------------------------------------------- load
    def _execute_load(self, harness: LoaderHarness[S]) -> None:
        with self._decision_lock:
            log.successfully_reserved_resources(harness.model, harness.version)
            with self._cond:
                harness.state = HarnessState.LOAD_APPROVED
            log.approving_load(harness.model, harness.version)
        self._monitor.publish(harness.model, harness.version, VersionState.LOADING)
        with self._cond:
            harness.state = HarnessState.LOADING
        log.loading_servable(harness.model, harness.version)
        servable, error = self._load_with_retries(harness)
        if self._stop.is_set():
            # Shutting down: report nothing more, just release what was loaded.
            if servable is not None:
                servable.close()
            return
        if error is None and harness.cancelled.is_set():
            # The version stopped being aspired while it loaded: do not report it AVAILABLE.
            self._unload_servable(harness, servable)
            error = ServingStatusError(Code.CANCELLED, "Loading of servable cancelled")
            self._monitor.publish(harness.model, harness.version, VersionState.END, error)
            log.servable_cannot_be_loaded(harness.model, harness.version, error)
            return
        if error is not None:
            with self._cond:
                harness.state = HarnessState.ERROR
            self._monitor.publish(harness.model, harness.version, VersionState.END, error)
            log.encountered_error(harness.model, harness.version, error)
            log.servable_cannot_be_loaded(harness.model, harness.version, error)
            return
        with self._cond:
            harness.servable = servable
            harness.state = HarnessState.READY
            log.loaded_servable(harness.model, harness.version)
            harness.serving = True
        self._monitor.publish(harness.model, harness.version, VersionState.AVAILABLE)

    def _attempt_load(
        self, harness: LoaderHarness[S]
    ) -> tuple[S | None, ServingStatusError | None]:
        try:
            return self._loader(harness.path), None
        except ServingStatusError as exc:
            error = exc
        # A loader is user-replaceable; whatever else it raises is a failed load, not a dead thread.
        except Exception as exc:
            error = ServingStatusError(Code.UNKNOWN, str(exc))
        log.load_failed(harness.model, harness.version, error)
        return None, error

    def _load_with_retries(
        self, harness: LoaderHarness[S]
    ) -> tuple[S | None, ServingStatusError | None]:
        """TF Serving's ``Retry``: up to 1 + max retries attempts, cancelled when unaspired.

        Unlike TF Serving, a cancellation ends the pause between attempts at once instead of
        after one more attempt.
        """
        tries = 0
        servable, error = None, None
        while True:
            if tries > 0:
                harness.cancelled.wait(self._retry_interval)
                if harness.cancelled.is_set():
                    break
                log.retrying_load(harness.model, harness.version, tries)
            servable, error = self._attempt_load(harness)
            tries += 1
            if error is None or tries >= self._max_retries + 1 or harness.cancelled.is_set():
                break
        if harness.cancelled.is_set():
            log.load_retries_cancelled(harness.model, harness.version)
        if tries == self._max_retries + 1:
            log.load_retries_exhausted(harness.model, harness.version, self._max_retries)
        return servable, error

    # ------------------------------------------------------------------------------ unload
    def _execute_unload(self, harness: LoaderHarness[S]) -> None:
        with self._decision_lock, self._cond:
            harness.state = HarnessState.QUIESCING
            log.quiescing(harness.model, harness.version)
        self._monitor.publish(harness.model, harness.version, VersionState.UNLOADING)
        with self._cond:
            harness.serving = False
            self._cond.wait_for(lambda: harness.refs == 0 or self._stop.is_set())
            if harness.refs:
                return  # stopping with requests in flight: leave the session to them
            harness.state = HarnessState.QUIESCED
            servable, harness.servable = harness.servable, None
        log.done_quiescing(harness.model, harness.version)
        self._unload_servable(harness, servable)
        self._monitor.publish(harness.model, harness.version, VersionState.END)

    def _unload_servable(self, harness: LoaderHarness[S], servable: S | None) -> None:
        with self._cond:
            harness.state = HarnessState.UNLOADING
        log.unloading(harness.model, harness.version)
        if servable is not None:
            servable.close()
        with self._cond:
            harness.state = HarnessState.DISABLED
        log.done_unloading(harness.model, harness.version)

    # ---------------------------------------------------------------------------- requests
    def acquire(self, model: str, version: int | None) -> LoaderHarness[S] | None:
        """Take a reference on the serving version (highest one when ``version`` is None)."""
        with self._cond:
            serving = [h for h in self._harnesses.get(model, {}).values() if h.serving]
            if version is None:
                harness = max(serving, key=lambda h: h.version, default=None)
            else:
                harness = next((h for h in serving if h.version == version), None)
            if harness is not None:
                harness.refs += 1
            return harness

    def release(self, harness: LoaderHarness[S]) -> None:
        """Drop a reference taken by :meth:`acquire`; the last one lets a pending unload go on."""
        with self._cond:
            harness.refs -= 1
            self._cond.notify_all()

    def serving_versions(self, model: str) -> list[int]:
        """Versions of ``model`` that currently answer requests, highest first."""
        with self._cond:
            versions = self._harnesses.get(model, {})
            return sorted((v for v, h in versions.items() if h.serving), reverse=True)

    # -------------------------------------------------------------------------------- stop
    def stop(self) -> None:
        """Cancel loads and retries, stop serving, and close every idle session.

        ``stop`` (the event given at construction) must already be set.
        """
        with self._cond:
            idle = []
            for versions in self._harnesses.values():
                for harness in versions.values():
                    harness.cancelled.set()
                    harness.serving = False
                    if harness.refs == 0 and harness.servable is not None:
                        idle.append(harness.servable)
                        harness.servable = None
            self._cond.notify_all()
        for servable in idle:
            servable.close()

    def join_workers(self, timeout: float) -> bool:
        """Wait for loads and unloads still running (TF Serving's executors join on shutdown).

        Returns:
            True when none is left; False when one outlived ``timeout`` seconds (a TensorFlow
            load cannot be interrupted, so it is left to finish on its daemon thread).
        """
        return self._workers.join(timeout)
