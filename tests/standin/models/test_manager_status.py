"""The manager's status and not-found answers: every version ever seen, highest first.

Texts of ``model_servers/get_model_status_impl.cc`` (status) and of ``core/basic_manager.cc`` /
``core/manager.h`` (``Servable not found for request: ...``). Fixtures: ``conftest.py`` of this
folder.
"""

from __future__ import annotations

import shutil

from fashion.serving.models.model_spec import VersionPolicy
from fashion.serving.status import Code
from tests.support.manager_kit import WAIT_SECONDS, available, ended, not_found
from tests.support.status_errors import code_and_message


def test_status_lists_every_version_ever_seen_highest_first(start_m, base, recorder):
    manager = start_m({1: "half", 2: "half", 10: "half"}, VersionPolicy.all())
    recorder.wait_for_status(manager, "m", available(10, 2, 1))
    shutil.rmtree(base / "2")
    recorder.wait_for_status(manager, "m", [*available(10), ended(2), *available(1)])
    one = manager.model_status("m", 2).model_version_status
    assert [(e.version, e.status.error_code, e.status.error_message) for e in one] == [(2, 0, "")]
    for call, message in (
        (lambda: manager.model_status("x"), "Could not find any versions of model x"),
        (lambda: manager.model_status("m", 7), "Could not find version 7 of model m"),
        (lambda: manager.model_status("x", 3), "Could not find version 3 of model x"),
    ):
        assert code_and_message(call) == (Code.NOT_FOUND, message)


def test_requests_for_unknown_models_and_versions_are_not_found(start_m):
    manager = start_m({1: "half"})
    assert manager.wait_until_initial_load(WAIT_SECONDS) == []
    assert not_found(manager, "x") == "Servable not found for request: Latest(x)"
    assert not_found(manager, "x", version=3) == "Servable not found for request: Specific(x, 3)"
    assert not_found(manager, "m", version=3) == "Servable not found for request: Specific(m, 3)"
