"""The manager's status and not-found answers: every version ever seen, highest first.

Texts of ``model_servers/get_model_status_impl.cc`` (status) and of ``core/basic_manager.cc`` /
``core/manager.h`` (``Servable not found for request: ...``). Fixtures: ``conftest.py`` of this
folder.
"""

from __future__ import annotations

import shutil

import pytest

from fashion.serving.models.model_spec import ModelSpec, VersionPolicy
from fashion.serving.status import Code, ServingStatusError
from tests.support.manager_kit import (
    WAIT_SECONDS,
    available,
    ended,
    not_found,
    place,
    status,
)


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
