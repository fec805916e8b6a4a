"""The AvailabilityPreservingPolicy's proposals, as pure functions
(``core/availability_preserving_policy.cc``, run by ``core/aspired_versions_manager.cc``)."""

from __future__ import annotations

from fashion.serving.models.policy import (
    Action,
    ActionKind,
    HarnessState,
    VersionSnapshot,
    choose_action,
    next_action,
)

READY = HarnessState.READY
NEW = HarnessState.NEW
LOADING = HarnessState.LOADING
ERROR = HarnessState.ERROR


def _v(version: int, state: HarnessState, aspired: bool) -> VersionSnapshot:
    return VersionSnapshot(version, state, aspired)


def test_new_aspired_version_is_loaded_while_the_old_one_keeps_serving():
    versions = [_v(1, READY, False), _v(2, NEW, True)]
    assert next_action("m", versions) == Action(ActionKind.LOAD, "m", 2)


def test_last_serving_version_is_not_unloaded_while_its_replacement_loads():
    assert next_action("m", [_v(1, READY, False), _v(2, LOADING, True)]) is None


def test_last_serving_version_is_not_unloaded_when_its_replacement_failed():
    assert next_action("m", [_v(1, READY, False), _v(2, ERROR, True)]) is None


def test_old_version_is_unloaded_once_an_aspired_version_serves():
    versions = [_v(1, READY, False), _v(2, READY, True)]
    assert next_action("m", versions) == Action(ActionKind.UNLOAD, "m", 1)


def test_everything_is_unloaded_lowest_first_when_nothing_is_aspired():
    versions = [_v(3, READY, False), _v(1, READY, False)]
    assert next_action("m", versions) == Action(ActionKind.UNLOAD, "m", 1)


def test_with_several_unaspired_serving_versions_the_lowest_goes_even_if_nothing_aspired_serves():
    versions = [_v(1, READY, False), _v(2, READY, False), _v(3, LOADING, True)]
    assert next_action("m", versions) == Action(ActionKind.UNLOAD, "m", 1)


def test_the_highest_never_tried_aspired_version_is_loaded_first():
    versions = [_v(1, NEW, True), _v(3, NEW, True), _v(2, NEW, True)]
    assert next_action("m", versions) == Action(ActionKind.LOAD, "m", 3)


def test_nothing_to_do_when_aspired_versions_serve():
    assert next_action("m", [_v(1, READY, True), _v(2, READY, True)]) is None


def test_unloads_are_started_before_loads():
    load = Action(ActionKind.LOAD, "a", 2)
    unload = Action(ActionKind.UNLOAD, "b", 1)
    assert choose_action([None, load, unload]) == unload
    assert choose_action([None, load]) == load
    assert choose_action([None, None]) is None
