"""The model manager: version policies, transitions, retries, labels, status and reloads.

Expected states, orders and texts are TF Serving's (spec §3, §9, §11-§14). Waits are driven by
state transitions and log lines, never by sleeping; where a test must show that something does
*not* happen it waits for a number of scanner rounds, counted from a "ticker" model whose empty
base path logs a warning on every scan.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from savedmodel_factory import write_affine_model, write_broken_version

from fashion.serving.models.manager import (
    LoadFailure,
    ManagerOptions,
    ModelManager,
    describe_unavailable,
)
from fashion.serving.models.model_spec import ModelSpec, VersionPolicy
from fashion.serving.models.version_states import VersionStatus
from fashion.serving.status import Code, ServingStatusError

FAST = ManagerOptions(
    file_system_poll_wait_seconds=0.05,
    manage_state_interval_seconds=0.02,
    num_initial_load_threads=2,
    max_num_load_retries=0,
    load_retry_interval_micros=10_000,
)
WAIT_SECONDS = 10.0


def _not_found_text(path: Path) -> str:
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
        with self._cond:
            self.events.append((status.model, status.version, status.state.value))
            self._cond.notify_all()

    def count(self, message: str) -> int:
        with self._cond:
            return self.messages.count(message)

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {WAIT_SECONDS} s waiting for {what}")
                self._cond.wait(remaining)

    def wait_for_message(self, message: str, times: int = 1) -> None:
        self.wait_for(lambda: self.messages.count(message) >= times, f"log line {message!r}")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("manager_builds")
    return {
        "half": write_affine_model(root / "half", 0.5),
        "triple": write_affine_model(root / "triple", 3.0),
        "broken": write_broken_version(root / "broken"),
    }


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    logger = logging.getLogger("fashion.serving")
    handler = Recorder()
    previous = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@pytest.fixture
def start(recorder: Recorder) -> Iterator[Callable[..., ModelManager]]:
    managers: list[ModelManager] = []

    def _start(models: list[ModelSpec], **options: object) -> ModelManager:
        manager = ModelManager(models, dataclasses.replace(FAST, **options))
        manager.add_state_listener(recorder.on_state)
        managers.append(manager)
        manager.start()
        return manager

    try:
        yield _start
    finally:
        for manager in managers:
            manager.stop()


@dataclasses.dataclass
class Ticker:
    """A model with an empty base path: each scan logs one warning, which counts scans."""

    spec: ModelSpec
    recorder: Recorder

    @property
    def line(self) -> str:
        return (
            f"No versions of servable ticker found under base path {self.spec.base_path}. Did "
            "you forget to name your leaf directory as a number (eg. '/1/')?"
        )

    def wait_scans(self, scans: int = 3) -> None:
        self.recorder.wait_for_message(self.line, self.recorder.count(self.line) + scans)


@pytest.fixture
def ticker(tmp_path: Path, recorder: Recorder) -> Ticker:
    base = tmp_path / "ticker"
    base.mkdir()
    return Ticker(ModelSpec("ticker", str(base)), recorder)


def place(build: Path, base: Path, version: int | str) -> Path:
    """Copy a version in under a temporary name, then rename it into place (atomic)."""
    base.mkdir(parents=True, exist_ok=True)
    staging = base / f"staging-{version}"
    shutil.copytree(build, staging)
    target = base / str(version)
    os.rename(staging, target)
    return target


def status(manager: ModelManager, model: str) -> list[tuple[int, str, str, str]]:
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


def available(*versions: int) -> list[tuple[int, str, str, str]]:
    return [(v, "AVAILABLE", "OK", "") for v in versions]


def ended(version: int) -> tuple[int, str, str, str]:
    return (version, "END", "OK", "")


def predict(manager: ModelManager, model: str, **selector: object) -> tuple[int, float]:
    """Run ``x = [1]`` through the resolved version: (version, y)."""
    with manager.acquire(model, **selector) as handle:
        result = handle.run("serving_default", {"x": np.array([1.0], np.float32)}, 5000)
        return handle.version, float(result["y"][0])


def not_found(manager: ModelManager, model: str, **selector: object) -> str:
    with pytest.raises(ServingStatusError) as info:
        predict(manager, model, **selector)
    assert info.value.code is Code.NOT_FOUND
    assert info.value.http_status == 404
    return info.value.message


# --------------------------------------------------------------------------- version policies
def test_initial_load_serves_only_the_latest_version(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["triple"], base, 2)
    manager = start([ModelSpec("m", str(base))])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    assert status(manager, "m") == available(2)
    assert predict(manager, "m") == (2, 5.0)
    assert predict(manager, "m", version=2) == (2, 5.0)
    assert not_found(manager, "m", version=1) == "Servable not found for request: Specific(m, 1)"
    assert recorder.messages[:2] == ["Adding/updating models.", " (Re-)adding model: m"]
    assert recorder.messages[-1] == "Finished adding/updating models"
    lines = [m for m in recorder.messages if "{name: m version: 2}" in m]
    assert lines == [
        "Successfully reserved resources to load servable {name: m version: 2}",
        "Approving load for servable version {name: m version: 2}",
        "Loading servable version {name: m version: 2}",
        # retrier.cc logs this whenever the attempt count reached 1 + max_num_load_retries,
        # success or not; with --max_num_load_retries=0 that is every load.
        "Retrying of Loading servable: {name: m version: 2} exhausted max_num_retries: 0",
        "Successfully loaded servable version {name: m version: 2}",
    ]
    assert recorder.events == [("m", 2, "START"), ("m", 2, "LOADING"), ("m", 2, "AVAILABLE")]


def test_all_policy_serves_every_version_and_latest_is_the_highest(
    start, builds, tmp_path, recorder
):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["triple"], base, 2)
    manager = start([ModelSpec("m", str(base), VersionPolicy.all())])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    recorder.wait_for(lambda: status(manager, "m") == available(2, 1), "both AVAILABLE")
    assert predict(manager, "m") == (2, 5.0)
    assert predict(manager, "m", version=1) == (1, 2.5)


def test_specific_policy_serves_only_the_listed_versions(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    for version in (1, 2, 3):
        place(builds["half"], base, version)
    manager = start([ModelSpec("m", str(base), VersionPolicy.specific([1, 3]))])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    recorder.wait_for(lambda: status(manager, "m") == available(3, 1), "1 and 3 AVAILABLE")
    assert manager.resolve("m") == 3
    assert not_found(manager, "m", version=2) == "Servable not found for request: Specific(m, 2)"


def test_latest_two_keeps_the_two_highest_as_new_versions_arrive(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["half"], base, 2)
    manager = start([ModelSpec("m", str(base), VersionPolicy.latest(2))])
    recorder.wait_for(lambda: status(manager, "m") == available(2, 1), "1 and 2 AVAILABLE")
    place(builds["triple"], base, 3)
    recorder.wait_for(lambda: status(manager, "m") == [*available(3, 2), ended(1)], "1 END")
    assert predict(manager, "m") == (3, 5.0)


# -------------------------------------------------------------------------------- transitions
def test_new_version_is_hot_loaded_and_the_old_one_unloaded_after(
    start, builds, tmp_path, recorder
):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = start([ModelSpec("m", str(base))])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    place(builds["triple"], base, 2)
    recorder.wait_for(lambda: status(manager, "m") == [*available(2), ended(1)], "1 END")
    assert predict(manager, "m") == (2, 5.0)
    assert not_found(manager, "m", version=1) == "Servable not found for request: Specific(m, 1)"
    assert recorder.events[3:] == [
        ("m", 2, "START"),
        ("m", 2, "LOADING"),
        ("m", 2, "AVAILABLE"),
        ("m", 1, "UNLOADING"),
        ("m", 1, "END"),
    ]
    unload = recorder.messages[
        recorder.messages.index("Quiescing servable version {name: m version: 1}") :
    ]
    assert unload == [
        "Quiescing servable version {name: m version: 1}",
        "Done quiescing servable version {name: m version: 1}",
        "Unloading just-loaded servable version {name: m version: 1}",
        "Done unloading servable version {name: m version: 1}",
    ]


def test_both_versions_serve_between_new_available_and_old_unload(
    start, builds, tmp_path, recorder
):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = start([ModelSpec("m", str(base))])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    seen: list[tuple[int, float]] = []

    def at_version_2_available(state: VersionStatus) -> None:
        # After start-up, loads run in the manager thread, so no unload can start before this
        # listener returns: this is the window in which both versions are AVAILABLE.
        if (state.version, state.state.value) == (2, "AVAILABLE"):
            seen.append(predict(manager, "m"))
            seen.append(predict(manager, "m", version=1))

    manager.add_state_listener(at_version_2_available)
    place(builds["triple"], base, 2)
    recorder.wait_for(lambda: status(manager, "m") == [*available(2), ended(1)], "1 END")
    assert seen == [(2, 5.0), (1, 2.5)]


def test_failed_new_version_keeps_the_old_one_serving_and_ends_with_its_error(
    start, builds, tmp_path, recorder, ticker
):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = start([ModelSpec("m", str(base)), ticker.spec])
    recorder.wait_for(lambda: status(manager, "m") == available(1), "version 1 AVAILABLE")
    broken = place(builds["broken"], base, 2)
    failed = (2, "END", "NOT_FOUND", _not_found_text(broken))
    recorder.wait_for(lambda: status(manager, "m") == [failed, *available(1)], "2 END")
    ticker.wait_scans()
    assert status(manager, "m") == [failed, *available(1)]
    assert predict(manager, "m") == (1, 2.5)
    assert (
        "Encountered an error for servable version {name: m version: 2}: NOT_FOUND: "
        + _not_found_text(broken)
    ) in recorder.messages


def test_failed_version_is_retried_only_after_it_left_the_disk_and_came_back(
    start, builds, tmp_path, recorder, ticker
):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = start([ModelSpec("m", str(base), VersionPolicy.all()), ticker.spec])
    recorder.wait_for(lambda: status(manager, "m") == available(1), "1 AVAILABLE")
    broken = place(builds["broken"], base, 2)
    failed = (2, "END", "NOT_FOUND", _not_found_text(broken))
    recorder.wait_for(lambda: status(manager, "m") == [failed, *available(1)], "2 END")
    # Completing the files in place does not help: the version stays failed while on disk.
    shutil.rmtree(broken)
    place(builds["triple"], base, 2)
    ticker.wait_scans()
    assert status(manager, "m") == [failed, *available(1)]
    assert recorder.events.count(("m", 2, "START")) == 1
    # Renamed away and back, it is a new version to the manager and loads.
    os.rename(base / "2", base / "parked")
    ticker.wait_scans()
    os.rename(base / "parked", base / "2")
    recorder.wait_for(lambda: status(manager, "m") == available(2, 1), "2 AVAILABLE")
    assert recorder.events.count(("m", 2, "START")) == 2
    assert predict(manager, "m") == (2, 5.0)


def test_load_is_retried_then_start_up_reports_the_failure(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    broken = place(builds["broken"], base, 1)
    manager = start([ModelSpec("m", str(base))], max_num_load_retries=2)
    failures = manager.wait_until_initial_load(WAIT_SECONDS)
    error = ServingStatusError(Code.NOT_FOUND, _not_found_text(broken))
    assert [(f.model, f.version, f.error.code, f.error.message) for f in failures] == [
        ("m", 1, Code.NOT_FOUND, error.message)
    ]
    assert describe_unavailable(failures) == (
        "1 servable(s) did not become available: {{{name: m version: 1} due to error: "
        f"NOT_FOUND: {error.message}}}, }}"
    )
    # END is published before the last two log lines, as in TF Serving's LoaderHarness.
    recorder.wait_for_message(
        f"Servable {{name: m version: 1}} cannot be loaded: NOT_FOUND: {error.message}"
    )
    assert recorder.events == [("m", 1, "START"), ("m", 1, "LOADING"), ("m", 1, "END")]
    failed = f"Loading servable: {{name: m version: 1}} failed: NOT_FOUND: {error.message}"
    assert recorder.count(failed) == 3
    for line in (
        "Retrying of Loading servable: {name: m version: 1} retry: 1",
        "Retrying of Loading servable: {name: m version: 1} retry: 2",
        "Retrying of Loading servable: {name: m version: 1} exhausted max_num_retries: 2",
        f"Encountered an error for servable version {{name: m version: 1}}: NOT_FOUND: "
        f"{error.message}",
    ):
        assert recorder.count(line) == 1
    assert "Finished adding/updating models" not in recorder.messages


def test_retries_stop_when_the_version_is_no_longer_aspired(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    broken = place(builds["broken"], base, 1)
    manager = start(
        [ModelSpec("m", str(base))], max_num_load_retries=5, load_retry_interval_micros=60_000_000
    )
    recorder.wait_for_message(
        f"Loading servable: {{name: m version: 1}} failed: NOT_FOUND: {_not_found_text(broken)}"
    )
    assert status(manager, "m") == [(1, "LOADING", "OK", "")]
    began = time.monotonic()
    shutil.rmtree(broken)
    recorder.wait_for(lambda: status(manager, "m")[0][1] == "END", "1 END")
    assert time.monotonic() - began < 5
    assert status(manager, "m") == [(1, "END", "NOT_FOUND", _not_found_text(broken))]
    assert recorder.count("Retrying of Loading servable: {name: m version: 1} was cancelled.") == 1


def test_deleted_version_is_unloaded_and_the_next_highest_served(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["triple"], base, 2)
    manager = start([ModelSpec("m", str(base))])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    shutil.rmtree(base / "2")
    recorder.wait_for(lambda: status(manager, "m") == [ended(2), *available(1)], "2 END")
    assert predict(manager, "m") == (1, 2.5)


def test_emptied_base_path_unloads_every_version(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["triple"], base, 2)
    manager = start([ModelSpec("m", str(base), VersionPolicy.all())])
    recorder.wait_for(lambda: status(manager, "m") == available(2, 1), "both AVAILABLE")
    shutil.rmtree(base / "1")
    shutil.rmtree(base / "2")
    recorder.wait_for(lambda: status(manager, "m") == [ended(2), ended(1)], "all END")
    assert not_found(manager, "m") == "Servable not found for request: Latest(m)"
    assert (
        f"No versions of servable m found under base path {base}. Did you forget to name your "
        "leaf directory as a number (eg. '/1/')?"
    ) in recorder.messages


def test_missing_base_path_blocks_updates_for_every_model(start, builds, tmp_path, recorder):
    first, second = tmp_path / "a", tmp_path / "b"
    place(builds["half"], first, 1)
    place(builds["half"], second, 1)
    manager = start([ModelSpec("a", str(first)), ModelSpec("b", str(second))])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    # Gone at once: rmtree alone leaves an empty base path for a moment, and a poll that sees
    # it unloads a (no versions found) instead of blocking.
    first.rename(tmp_path / "a-gone")
    shutil.rmtree(tmp_path / "a-gone")
    place(builds["triple"], second, 2)
    error = (
        "FileSystemStoragePathSource encountered a filesystem access error: Could not find base "
        f"path {first} for servable a with error NOT_FOUND: {first} not found"
    )
    recorder.wait_for_message(error, times=3)
    assert status(manager, "b") == available(1)
    assert predict(manager, "a") == (1, 2.5)
    place(builds["half"], first, 1)
    recorder.wait_for(lambda: status(manager, "b") == [*available(2), ended(1)], "b 2 AVAILABLE")
    assert status(manager, "a") == available(1)


def test_start_up_waits_while_the_base_path_is_missing(start, builds, tmp_path):
    base = tmp_path / "m"
    manager = start([ModelSpec("m", str(base))])
    with pytest.raises(ServingStatusError) as info:
        manager.wait_until_initial_load(timeout=0.3)
    assert info.value.code is Code.CANCELLED
    place(builds["half"], base, 1)
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    assert predict(manager, "m") == (1, 2.5)


def test_in_flight_request_delays_the_unload_until_it_finishes(
    start, builds, tmp_path, recorder, ticker
):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = start([ModelSpec("m", str(base)), ticker.spec])
    recorder.wait_for(lambda: status(manager, "m") == available(1), "1 AVAILABLE")
    with manager.acquire("m") as handle:
        place(builds["triple"], base, 2)
        recorder.wait_for(lambda: ("m", 1, "UNLOADING") in recorder.events, "1 UNLOADING")
        ticker.wait_scans()
        assert status(manager, "m") == [*available(2), (1, "UNLOADING", "OK", "")]
        assert "Done quiescing servable version {name: m version: 1}" not in recorder.messages
        assert not_found(manager, "m", version=1) == (
            "Servable not found for request: Specific(m, 1)"
        )
        result = handle.run("serving_default", {"x": np.array([1.0], np.float32)})
        assert (handle.version, float(result["y"][0])) == (1, 2.5)
    recorder.wait_for(lambda: status(manager, "m") == [*available(2), ended(1)], "1 END")


# ------------------------------------------------------------------------------------ labels
def test_labels_resolve_to_their_versions(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["triple"], base, 2)
    spec = ModelSpec(
        "m", str(base), VersionPolicy.all(), labels={"stable": 1, "canary": 2, "next": 9}
    )
    manager = start([spec], allow_version_labels_for_unavailable_models=True)
    recorder.wait_for(lambda: status(manager, "m") == available(2, 1), "both AVAILABLE")
    assert predict(manager, "m", label="stable") == (1, 2.5)
    assert predict(manager, "m", label="canary") == (2, 5.0)
    assert not_found(manager, "m", label="next") == "Servable not found for request: Specific(m, 9)"
    for model in ("m", "x"):
        with pytest.raises(ServingStatusError) as info:
            predict(manager, model, label="latest")
        assert info.value.code is Code.INVALID_ARGUMENT
        assert info.value.http_status == 400
        assert info.value.message == "Unrecognized servable version label: latest"


def test_labels_at_start_up_need_the_allow_flag(builds, tmp_path):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = ModelManager([ModelSpec("m", str(base), labels={"stable": 1})], FAST)
    try:
        with pytest.raises(ServingStatusError) as info:
            manager.start()
    finally:
        manager.stop()
    assert info.value.code is Code.FAILED_PRECONDITION
    assert info.value.message == (
        "Request to assign label to version 1 of model m, which is not currently available for "
        "inference"
    )


def test_label_rules_on_reload(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    place(builds["triple"], base, 2)
    manager = start([ModelSpec("m", str(base), VersionPolicy.all())])
    recorder.wait_for(lambda: status(manager, "m") == available(2, 1), "both AVAILABLE")

    def config(**labels: int) -> ModelSpec:
        return ModelSpec("m", str(base), VersionPolicy.all(), labels=labels)

    def refused(models: list[ModelSpec], allow: bool, version: int) -> None:
        with pytest.raises(ServingStatusError) as info:
            manager.apply_config(models, allow)
        assert info.value.code is Code.FAILED_PRECONDITION
        assert info.value.message == (
            f"Request to assign label to version {version} of model m, which is not currently "
            "available for inference"
        )

    manager.apply_config([config(stable=1)], False)
    assert manager.labels("m") == {"stable": 1}
    # Without the flag every label needs an AVAILABLE version, and a refused config changes nothing.
    other = ModelSpec("other", str(tmp_path / "other"))
    refused([config(stable=1, canary=3), other], False, 3)
    assert manager.labels("m") == {"stable": 1}
    assert set(manager.models) == {"m"}
    # With the flag a new label may point at an unavailable version, and keep pointing there...
    manager.apply_config([config(stable=1, canary=3)], True)
    manager.apply_config([config(stable=1, canary=3)], True)
    assert not_found(manager, "m", label="canary") == (
        "Servable not found for request: Specific(m, 3)"
    )
    # ...but an existing label only moves to an AVAILABLE version.
    refused([config(stable=3, canary=3)], True, 3)
    manager.apply_config([config(stable=2, canary=3)], True)
    assert manager.labels("m") == {"stable": 2, "canary": 3}
    manager.apply_config([config(stable=2)], False)
    assert manager.resolve("m", label="stable") == 2
    with pytest.raises(ServingStatusError) as info:
        manager.resolve("m", label="canary")
    assert info.value.message == "Unrecognized servable version label: canary"


# ------------------------------------------------------------------------------------ status
def test_status_lists_every_version_ever_seen_highest_first(start, builds, tmp_path, recorder):
    base = tmp_path / "m"
    for version in (1, 2, 10):
        place(builds["half"], base, version)
    manager = start([ModelSpec("m", str(base), VersionPolicy.all())])
    recorder.wait_for(lambda: status(manager, "m") == available(10, 2, 1), "all AVAILABLE")
    shutil.rmtree(base / "2")
    recorder.wait_for(
        lambda: status(manager, "m") == [*available(10), ended(2), *available(1)], "2 END"
    )
    one = manager.model_status("m", 2).model_version_status
    assert [(e.version, e.status.error_code, e.status.error_message) for e in one] == [(2, 0, "")]
    for call, message in (
        (lambda: manager.model_status("x"), "Could not find any versions of model x"),
        (lambda: manager.model_status("m", 7), "Could not find version 7 of model m"),
        (lambda: manager.model_status("x", 3), "Could not find version 3 of model x"),
    ):
        with pytest.raises(ServingStatusError) as info:
            call()
        assert (info.value.code, info.value.message) == (Code.NOT_FOUND, message)


def test_requests_for_unknown_models_and_versions_are_not_found(start, builds, tmp_path):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = start([ModelSpec("m", str(base))])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    assert not_found(manager, "x") == "Servable not found for request: Latest(x)"
    assert not_found(manager, "x", version=3) == "Servable not found for request: Specific(x, 3)"
    assert not_found(manager, "m", version=3) == "Servable not found for request: Specific(m, 3)"


# ----------------------------------------------------------------------------------- reloads
def test_reload_adds_new_models_and_unloads_removed_ones(start, builds, tmp_path, recorder):
    first, second = tmp_path / "a", tmp_path / "b"
    place(builds["half"], first, 1)
    place(builds["triple"], second, 1)
    a, b = ModelSpec("a", str(first)), ModelSpec("b", str(second))
    manager = start([a])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    recorder.messages.clear()
    manager.apply_config([a, b])
    assert status(manager, "b") == available(1)
    assert recorder.messages[:3] == [
        "Adding/updating models.",
        " (Re-)adding model: a",
        " (Re-)adding model: b",
    ]
    assert recorder.messages[-1] == "Finished adding/updating models"
    manager.apply_config([b])
    recorder.wait_for(lambda: status(manager, "a") == [ended(1)], "a 1 END")
    assert not_found(manager, "a") == "Servable not found for request: Latest(a)"
    assert predict(manager, "b") == (1, 5.0)
    assert set(manager.models) == {"b"}


def test_reload_reports_added_models_that_did_not_become_available(start, builds, tmp_path):
    first, third = tmp_path / "a", tmp_path / "c"
    place(builds["half"], first, 1)
    broken = place(builds["broken"], third, 1)
    a = ModelSpec("a", str(first))
    manager = start([a])
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    with pytest.raises(ServingStatusError) as info:
        manager.apply_config([a, ModelSpec("c", str(third))])
    assert info.value.code is Code.UNKNOWN
    assert info.value.message == (
        "1 model(s) did not become available: {{{name: c version: 1} due to error: NOT_FOUND: "
        f"{_not_found_text(broken)}}}, }}"
    )


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (
            [ModelSpec("m", "/srv/m"), ModelSpec("m", "/srv/n")],
            "Illegal to list model m multiple times in config list",
        ),
        (
            [ModelSpec("m", "models/m")],
            "Expected model m to have an absolute path or URI; got base_path()=models/m",
        ),
        ([ModelSpec("m", "/srv/m", platform="onnx")], "Model m requests unsupported platform onnx"),
    ],
)
def test_invalid_configs_are_refused_with_server_core_texts(models, message):
    manager = ModelManager(models, FAST)
    try:
        with pytest.raises(ServingStatusError) as info:
            manager.start()
    finally:
        manager.stop()
    assert (info.value.code, info.value.message) == (Code.INVALID_ARGUMENT, message)


def test_a_model_may_not_change_platform_on_reload(start, builds, tmp_path):
    base = tmp_path / "m"
    place(builds["half"], base, 1)
    manager = start([ModelSpec("m", str(base))])
    with pytest.raises(ServingStatusError) as info:
        manager.apply_config([ModelSpec("m", str(base), platform="tensorflow2")])
    assert info.value.message == (
        "Illegal to change a model's platform. For model m platform was tensorflow and new "
        "platform requested is tensorflow2"
    )


# -------------------------------------------------------------------------------------- stop
def test_stop_is_prompt_during_load_retries_and_ends_waits(builds, tmp_path, recorder):
    base = tmp_path / "m"
    broken = place(builds["broken"], base, 1)
    options = dataclasses.replace(
        FAST,
        file_system_poll_wait_seconds=30,
        max_num_load_retries=5,
        load_retry_interval_micros=60_000_000,
    )
    manager = ModelManager([ModelSpec("m", str(base))], options)
    manager.start()
    outcome: list[BaseException | list[LoadFailure]] = []

    def wait() -> None:
        try:
            outcome.append(manager.wait_until_initial_load())
        except ServingStatusError as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    recorder.wait_for_message(
        f"Loading servable: {{name: m version: 1}} failed: NOT_FOUND: {_not_found_text(broken)}"
    )
    began = time.monotonic()
    manager.stop()
    waiter.join(timeout=1)
    assert time.monotonic() - began < 1
    assert not waiter.is_alive()
    assert isinstance(outcome[0], ServingStatusError)
    assert outcome[0].code is Code.CANCELLED


class _GatedLoader:
    """A loader that holds its load until released, and records what became of the result."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.closed = threading.Event()

    def __call__(self, path: str) -> _GatedLoader:
        self.entered.set()
        self.release.wait(WAIT_SECONDS)
        return self

    def close(self) -> None:
        self.closed.set()


@pytest.mark.parametrize("load_threads", [0, 2], ids=["inline-load", "load-thread"])
def test_stop_waits_for_a_load_in_progress_and_releases_what_it_loaded(
    tmp_path: Path, recorder: Recorder, load_threads: int
) -> None:
    """Nothing a load does may land after stop returns: the next test's log capture saw it."""
    (tmp_path / "m" / "1").mkdir(parents=True)
    loader = _GatedLoader()
    options = dataclasses.replace(FAST, num_initial_load_threads=load_threads)
    manager = ModelManager([ModelSpec("m", str(tmp_path / "m"))], options, loader=loader)
    manager.start()
    assert loader.entered.wait(WAIT_SECONDS)
    stopper = threading.Thread(target=manager.stop)
    stopper.start()
    stopper.join(0.3)
    still_stopping = stopper.is_alive()
    loader.release.set()
    stopper.join(WAIT_SECONDS)

    assert still_stopping, "stop returned while the load was still running"
    assert not stopper.is_alive()
    assert loader.closed.is_set(), "the version loaded during stop was not released"
    lines_at_stop = list(recorder.messages)
    time.sleep(0.2)
    assert recorder.messages == lines_at_stop
