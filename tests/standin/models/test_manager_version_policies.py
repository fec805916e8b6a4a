"""Which versions the manager serves under each version policy, and what it logs loading them.

Policies as ``file_system_storage_path_source.cc`` applies them (``AspireLatestVersions``,
``AspireAllVersions``, ``AspireSpecificVersions``); the load's log lines in the order of
``server_core.cc``, ``basic_manager.cc``, ``loader_harness.cc`` and ``util/retrier.cc``.
Fixtures: ``conftest.py`` of this folder; helpers: ``tests.support.manager_kit``.
"""

from __future__ import annotations

from fashion.serving.models.model_spec import VersionPolicy
from tests.support.manager_kit import (
    WAIT_SECONDS,
    available,
    ended,
    not_found,
    place,
    predict,
    status,
)


def test_initial_load_serves_only_the_latest_version(start_m, recorder):
    manager = start_m({1: "half", 2: "triple"})
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


def test_all_policy_serves_every_version_and_latest_is_the_highest(start_m, recorder):
    manager = start_m({1: "half", 2: "triple"}, VersionPolicy.all())
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    recorder.wait_for_status(manager, "m", available(2, 1))
    assert predict(manager, "m") == (2, 5.0)
    assert predict(manager, "m", version=1) == (1, 2.5)


def test_specific_policy_serves_only_the_listed_versions(start_m, recorder):
    manager = start_m({1: "half", 2: "half", 3: "half"}, VersionPolicy.specific([1, 3]))
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    recorder.wait_for_status(manager, "m", available(3, 1))
    assert manager.resolve("m") == 3
    assert not_found(manager, "m", version=2) == "Servable not found for request: Specific(m, 2)"


def test_latest_two_keeps_the_two_highest_as_new_versions_arrive(start_m, builds, base, recorder):
    manager = start_m({1: "half", 2: "half"}, VersionPolicy.latest(2))
    recorder.wait_for_status(manager, "m", available(2, 1))
    place(builds["triple"], base, 3)
    recorder.wait_for_status(manager, "m", [*available(3, 2), ended(1)])
    assert predict(manager, "m") == (3, 5.0)
