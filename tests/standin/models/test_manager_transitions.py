"""Versions appearing and disappearing on disk while the manager runs, without a restart.

TF Serving's ``AvailabilityPreservingPolicy`` (``core/availability_preserving_policy.cc``, run
by ``core/aspired_versions_manager.cc``) loads the new version before it unloads the old, and
never unloads the last serving version while no replacement serves; ``loader_harness.cc`` logs
the unload. A base path that is missing or empty is handled as
``file_system_storage_path_source.cc`` does. Fixtures: ``conftest.py`` of this folder.
"""

from __future__ import annotations

import shutil

import numpy as np

from fashion.serving.models.model_spec import ModelSpec, VersionPolicy
from fashion.serving.models.version_states import VersionStatus
from fashion.serving.status import Code
from tests.support.manager_kit import (
    WAIT_SECONDS,
    available,
    ended,
    not_found,
    place,
    predict,
    status,
)
from tests.support.status_errors import status_error


def test_new_version_is_hot_loaded_and_the_old_one_unloaded_after(start_m, builds, base, recorder):
    manager = start_m({1: "half"})
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    place(builds["triple"], base, 2)
    recorder.wait_for_status(manager, "m", [*available(2), ended(1)])
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


def test_both_versions_serve_between_new_available_and_old_unload(start_m, builds, base, recorder):
    manager = start_m({1: "half"})
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
    recorder.wait_for_status(manager, "m", [*available(2), ended(1)])
    assert seen == [(2, 5.0), (1, 2.5)]


def test_in_flight_request_delays_the_unload_until_it_finishes(
    start_m, builds, base, recorder, ticker
):
    manager = start_m({1: "half"}, also=[ticker.spec])
    recorder.wait_for_status(manager, "m", available(1))
    with manager.acquire("m") as handle:
        place(builds["triple"], base, 2)
        recorder.wait_for(lambda: ("m", 1, "UNLOADING") in recorder.events, "1 UNLOADING")
        ticker.wait_scans()
        assert status(manager, "m") == [*available(2), (1, "UNLOADING", "OK", "")]
        assert "Done quiescing servable version {name: m version: 1}" not in recorder.messages
        assert not_found(manager, "m", version=1) == (
            "Servable not found for request: Specific(m, 1)"
        )
        result = handle.servable.run("serving_default", {"x": np.array([1.0], np.float32)})
        assert (handle.version, float(result["y"][0])) == (1, 2.5)
    recorder.wait_for_status(manager, "m", [*available(2), ended(1)])


def test_deleted_version_is_unloaded_and_the_next_highest_served(start_m, base, recorder):
    manager = start_m({1: "half", 2: "triple"})
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    shutil.rmtree(base / "2")
    recorder.wait_for_status(manager, "m", [ended(2), *available(1)])
    assert predict(manager, "m") == (1, 2.5)


def test_emptied_base_path_unloads_every_version(start_m, base, recorder):
    manager = start_m({1: "half", 2: "triple"}, VersionPolicy.all())
    recorder.wait_for_status(manager, "m", available(2, 1))
    shutil.rmtree(base / "1")
    shutil.rmtree(base / "2")
    recorder.wait_for_status(manager, "m", [ended(2), ended(1)])
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
    recorder.wait_for_status(manager, "b", [*available(2), ended(1)])
    assert status(manager, "a") == available(1)


def test_start_up_waits_while_the_base_path_is_missing(start_m, builds, base):
    manager = start_m({})
    assert status_error(manager.wait_until_initial_load, timeout=0.3).code is Code.CANCELLED
    place(builds["half"], base, 1)
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    assert predict(manager, "m") == (1, 2.5)
