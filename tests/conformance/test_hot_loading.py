"""Versions appearing and disappearing on disk, without a restart.

Found by ``sources/storage_path/file_system_storage_path_source.cc``'s scans; loaded before the
old version is unloaded by ``core/availability_preserving_policy.cc``.

The watching server scans every second (``--file_system_poll_wait_seconds=1``). Model ``hot``
(default policy ``latest``, N = 1) and ``vanishing`` belong to this file; every version ``v``
computes ``y = v * x``.
"""

from __future__ import annotations

import time

import pytest

from fashion.servers import wait_until
from tests.support.rest_probe import ONE
from tests.support.watched_server import WatchedServer, rename_into_place

pytestmark = pytest.mark.server


def test_a_new_version_is_loaded_and_the_old_one_unloaded_without_a_restart(
    watching: WatchedServer,
) -> None:
    rest, pid = watching.rest, watching.server.pid
    assert rest.predict("hot", ONE).json() == {"predictions": [1.0]}
    built = watching.build_version("hot", 2, 2.0)
    rename_into_place(built, watching.root / "hot" / "2")

    answers: list[tuple[int, bytes]] = []

    def version_2_in_and_1_out() -> bool:
        reply = rest.predict("hot", ONE)  # serving is never interrupted meanwhile
        answers.append((reply.status, reply.body))
        states = rest.version_states("hot")
        return (
            states.get(2) is not None
            and states[2].state == "AVAILABLE"
            and states[1].state == "END"
        )

    started = time.monotonic()
    wait_until(version_2_in_and_1_out, 30, "hot version 2 AVAILABLE and version 1 END")
    print(f"version 2 served and version 1 unloaded after {time.monotonic() - started:.2f} s")

    served = {(200, b'{\n    "predictions": [%s\n    ]\n}' % value) for value in (b"1.0", b"2.0")}
    assert set(answers) <= served, answers
    assert rest.predict("hot", ONE).json() == {"predictions": [2.0]}
    assert rest.status("hot").json() == {
        "model_version_status": [
            {
                "version": "2",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            },
            {"version": "1", "state": "END", "status": {"error_code": "OK", "error_message": ""}},
        ]
    }
    gone = rest.predict("hot", ONE, version=1)
    assert (gone.status, gone.error) == (404, "Servable not found for request: Specific(hot, 1)")
    assert watching.server.pid == pid
    watching.server.assert_alive()


def test_a_base_path_without_numeric_versions_unloads_everything(
    watching: WatchedServer,
) -> None:
    rest = watching.rest
    assert rest.predict("vanishing", ONE).json() == {"predictions": [1.0]}
    # A non-numeric name is not a version (file_system_storage_path_source.cc): the base path
    # now has none.
    (watching.root / "vanishing" / "1").rename(watching.root / "vanishing" / "1.retired")

    rest.wait_for_states("vanishing", {1: "END"})

    latest = rest.predict("vanishing", ONE)
    assert (latest.status, latest.error) == (
        404,
        "Servable not found for request: Latest(vanishing)",
    )
    pinned = rest.predict("vanishing", ONE, version=1)
    assert (pinned.status, pinned.error) == (
        404,
        "Servable not found for request: Specific(vanishing, 1)",
    )
    status = rest.status("vanishing", version=1)
    assert (status.status, status.json()["model_version_status"][0]["state"]) == (200, "END")
