"""The model manager: TF Serving's ServerCore without the network.

It owns the configured models, the file-system scanner thread, the manager thread that applies
the AvailabilityPreservingPolicy, the version labels and the state record, and answers the three
questions the REST layer asks: which servable answers this request (:meth:`ModelManager.acquire`),
what is the status of this model (:meth:`ModelManager.model_status`), and did start-up succeed
(:meth:`ModelManager.wait_until_initial_load`). Behaviour and texts follow TF Serving's
``server_core.cc``, ``aspired_versions_manager.cc``, ``basic_manager.cc`` and
``get_model_status_impl.cc``. The manager never looks inside what it serves: its loader, given
by the caller, turns a version directory into a servable (see
:mod:`fashion.serving.models.manager_types`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Generic, cast

from tensorflow_serving.apis import get_model_status_pb2

from fashion.serving.logs import texts as log
from fashion.serving.models.discovery import poll_file_system
from fashion.serving.models.lifecycle import LoaderHarness, VersionLifecycle
from fashion.serving.models.manager_types import (
    Loader,
    LoadFailure,
    ManagerOptions,
    S,
    ServableHandle,
    describe_unavailable,
)
from fashion.serving.models.model_config import (
    ConfigKind,
    ModelServerConfig,
    check_label_assignment,
    validate_config,
    validate_platforms,
)
from fashion.serving.models.model_spec import ModelSpec
from fashion.serving.models.version_states import StateListener, StateMonitor, VersionState
from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "LoadFailure",
    "ManagerOptions",
    "ModelManager",
    "ServableHandle",
    "describe_unavailable",
]

# Loads cannot be interrupted; stopping waits this long for one in progress to finish.
_STOP_TIMEOUT_SECONDS = 30


def _as_config(models: Iterable[ModelSpec]) -> ModelServerConfig:
    return ModelServerConfig(ConfigKind.MODEL_CONFIG_LIST, tuple(models))


class ModelManager(Generic[S]):
    """Loads, serves and unloads the versions of the configured models.

    Call :meth:`start`, then :meth:`wait_until_initial_load`; serve with :meth:`acquire`; apply
    new configs with :meth:`apply_config`; finish with :meth:`stop`.

    Args:
        models: the initial configuration.
        loader: loads one version directory (the stand-in's is
            :func:`fashion.serving.runtime.loader.version_loader`); tests may pass a fake.
        options: management options.
    """

    def __init__(
        self,
        models: Iterable[ModelSpec],
        loader: Loader[S],
        options: ManagerOptions | None = None,
    ) -> None:
        self._options = options or ManagerOptions()
        self._initial = list(models)
        self._models: dict[str, ModelSpec] = {}
        self._labels: dict[str, dict[str, int]] = {}
        self._labels_lock = threading.Lock()
        self._config_lock = threading.Lock()
        self._source_lock = threading.Lock()
        self._stop = threading.Event()
        self._monitor = StateMonitor()
        self._lifecycle: VersionLifecycle[S] = VersionLifecycle(
            self._monitor,
            loader,
            max_num_load_retries=self._options.max_num_load_retries,
            load_retry_interval_micros=self._options.load_retry_interval_micros,
            num_load_threads=self._options.num_initial_load_threads,
            num_unload_threads=self._options.num_unload_threads,
            stop=self._stop,
        )
        self._threads: list[threading.Thread] = []
        self._start_seq = 0

    # ------------------------------------------------------------------------------ config
    @property
    def models(self) -> Mapping[str, ModelSpec]:
        """The configuration currently in force, by name."""
        with self._source_lock:
            return dict(self._models)

    def labels(self, model: str) -> Mapping[str, int]:
        """The version labels in force for ``model``."""
        with self._labels_lock:
            return dict(self._labels.get(model, {}))

    def add_state_listener(self, listener: StateListener) -> None:
        """Be told of every state transition (on the transitioning thread; keep it short)."""
        self._monitor.add_listener(listener)

    def _compute_labels(
        self, models: Sequence[ModelSpec], allow: bool
    ) -> dict[str, dict[str, int]]:
        """The label checks of ``UpdateModelVersionLabelMap`` (``server_core.cc``)."""
        with self._labels_lock:
            current = {m: dict(labels) for m, labels in self._labels.items()}
        new: dict[str, dict[str, int]] = {}
        for spec in models:
            available = [
                version
                for version in spec.labels.values()
                if (status := self._monitor.get(spec.name, version)) is not None
                and status.state is VersionState.AVAILABLE
            ]
            check_label_assignment(
                spec.name, current.get(spec.name, {}), spec.labels, available, allow
            )
            if spec.labels:
                new[spec.name] = dict(spec.labels)
        return new

    def _install(self, models: Sequence[ModelSpec], allow: bool) -> set[str]:
        """Validate and apply a config up to the point of waiting; return the new model names."""
        old = self.models
        validate_config(_as_config(models), _as_config(old.values()) if old else None)
        labels = self._compute_labels(models, allow)
        with self._labels_lock:
            self._labels = labels
        log.adding_updating_models()
        for spec in models:
            log.readding_model(spec.name)
        validate_platforms(_as_config(models))
        with self._source_lock:
            removed = set(self._models) - {spec.name for spec in models}
            added = {spec.name for spec in models} - set(self._models)
            self._models = {spec.name: spec for spec in models}
            for name in sorted(removed):
                self._lifecycle.set_aspired_versions(name, {})
        return added

    # ----------------------------------------------------------------------------- threads
    def start(self) -> None:
        """Validate the initial config, install its labels and start scanning and managing.

        Raises:
            ServingStatusError: the config is invalid or a label names an unavailable version.
        """
        self._start_seq = self._monitor.seq
        self._install(self._initial, self._options.allow_version_labels_for_unavailable_models)
        for target, name in (
            (self._scan_loop, "fashion-serving-scanner"),
            (self._manage_loop, "fashion-serving-manager"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _manage_loop(self) -> None:
        interval = self._options.manage_state_interval_seconds
        while not self._stop.is_set():
            self._lifecycle.manage_round()
            self._stop.wait(interval)

    def _scan_once(self) -> None:
        with self._source_lock:
            found = poll_file_system(self._models.values())
            if found is None:
                return
            for name, versions in found.items():
                self._lifecycle.set_aspired_versions(name, versions)

    def _scan_loop(self) -> None:
        interval = self._options.file_system_poll_wait_seconds
        if interval < 0:
            return
        while not self._stop.is_set():
            self._scan_once()
            if interval == 0 or self._stop.wait(interval):
                return

    def wait_until_initial_load(self, timeout: float | None = None) -> list[LoadFailure]:
        """Block until every initial model has a version that is AVAILABLE or failed (§3.1).

        Start-up loads run on ``num_initial_load_threads``; afterwards ``num_load_threads`` apply.

        Args:
            timeout: seconds to wait at most (TF Serving has none).

        Returns:
            The models that ended without an AVAILABLE version; empty on success. The caller
            prints ``Failed to start server. Error: UNKNOWN: `` + :func:`describe_unavailable`.

        Raises:
            ServingStatusError: CANCELLED when stopped or timed out first.
        """
        names = [spec.name for spec in self._initial]
        reached = self._monitor.wait_for_models(names, self._start_seq, self._stop, timeout)
        self._lifecycle.set_num_load_threads(self._options.num_load_threads)
        failures = [
            LoadFailure(s.model, s.version, s.error)
            for s in reached.values()
            if s.state is not VersionState.AVAILABLE
        ]
        if not failures:
            log.finished_adding_updating_models()
        return sorted(failures, key=lambda f: (f.model, f.version))

    def apply_config(
        self,
        new_models: Iterable[ModelSpec],
        allow_version_labels_for_unavailable_models: bool | None = None,
        timeout: float | None = None,
    ) -> None:
        """Apply a reloaded config (``ServerCore::ReloadConfig``); wait for the models it adds.

        On a validation or label error nothing of the new config is applied. Removed models are
        unloaded without waiting; added models are found by the next scan and waited for.

        Args:
            new_models: the complete new configuration.
            allow_version_labels_for_unavailable_models: overrides the option when given.
            timeout: seconds to wait for added models at most.

        Raises:
            ServingStatusError: the error of validation, labels, or ``UNKNOWN: {n} model(s) did
                not become available: ...``.
        """
        models = list(new_models)
        allow = allow_version_labels_for_unavailable_models
        if allow is None:
            allow = self._options.allow_version_labels_for_unavailable_models
        with self._config_lock:
            since = self._monitor.seq
            added = self._install(models, allow)
            reached = self._monitor.wait_for_models(sorted(added), since, self._stop, timeout)
            failures = [
                LoadFailure(s.model, s.version, s.error)
                for s in reached.values()
                if s.state is not VersionState.AVAILABLE
            ]
            if failures:
                raise ServingStatusError(Code.UNKNOWN, describe_unavailable(failures, "model"))
            log.finished_adding_updating_models()

    def stop(self) -> None:
        """Stop scanning, managing, loading and retrying; close idle sessions.

        A retry pause ends at once; a load already inside TensorFlow is waited for (bounded),
        so nothing it does lands after ``stop`` returns.
        """
        self._stop.set()
        self._monitor.wake()
        self._lifecycle.stop()
        # The manager thread itself loads when num_load_threads is 0, so it gets the same bound.
        deadline = time.monotonic() + _STOP_TIMEOUT_SECONDS
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        finished = self._lifecycle.join_workers(max(deadline - time.monotonic(), 0))
        if not finished or any(thread.is_alive() for thread in self._threads):
            log.unfinished_work_after_stop(_STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> ModelManager[S]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---------------------------------------------------------------------------- requests
    def _request_version(self, model: str, version: int | None, label: str | None) -> int | None:
        if version is not None and label is not None:
            raise ValueError("give a version or a label, not both")
        if label is None:
            return version
        with self._labels_lock:
            found = self._labels.get(model, {}).get(label)
        if found is None:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT, f"Unrecognized servable version label: {label}"
            )
        return found

    @contextlib.contextmanager
    def acquire(
        self, model: str, version: int | None = None, label: str | None = None
    ) -> Iterator[ServableHandle[S]]:
        """Hold the version that answers a request; its unload waits until the block ends.

        Args:
            model: model name.
            version: a specific version, or None for the highest AVAILABLE one.
            label: a version label (instead of ``version``).

        Yields:
            The resolved version and its servable.

        Raises:
            ServingStatusError: 400 ``Unrecognized servable version label: {l}``, or 404
                ``Servable not found for request: Latest({m})`` / ``Specific({m}, {v})``.
        """
        wanted = self._request_version(model, version, label)
        harness: LoaderHarness[S] | None = self._lifecycle.acquire(model, wanted)
        if harness is None:
            request = f"Latest({model})" if wanted is None else f"Specific({model}, {wanted})"
            raise ServingStatusError(Code.NOT_FOUND, f"Servable not found for request: {request}")
        try:
            # A harness that serves holds its servable until the last reference is released.
            yield ServableHandle(model, harness.version, cast(S, harness.servable))
        finally:
            self._lifecycle.release(harness)

    def resolve(self, model: str, version: int | None = None, label: str | None = None) -> int:
        """The version that would answer a request now (same errors as :meth:`acquire`)."""
        with self.acquire(model, version, label) as handle:
            return handle.version

    def model_status(
        self, model: str, version: int | None = None
    ) -> get_model_status_pb2.GetModelStatusResponse:
        """Every version ever managed (or one), highest first, as the status API reports it.

        Raises:
            ServingStatusError: 404 ``Could not find any versions of model {m}`` /
                ``Could not find version {v} of model {m}``.
        """
        if version is not None:
            status = self._monitor.get(model, version)
            if status is None:
                raise ServingStatusError(
                    Code.NOT_FOUND, f"Could not find version {version} of model {model}"
                )
            statuses = [status]
        else:
            statuses = self._monitor.versions(model)
            if not statuses:
                raise ServingStatusError(
                    Code.NOT_FOUND, f"Could not find any versions of model {model}"
                )
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in statuses:
            entry = response.model_version_status.add()
            entry.version = status.version
            entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(status.state.value)
            entry.status.error_code = int(status.code)
            entry.status.error_message = status.message
        return response
