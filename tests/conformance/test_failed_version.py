"""A version that fails to load ends in END with its error, and the old version keeps serving.

States as ``model_servers/get_model_status_impl.cc`` reports them; the old version stays because
``core/availability_preserving_policy.cc`` never unloads the last serving version while no
replacement serves.

The watching server runs with ``--max_num_load_retries=0``, so the failure is final at once
instead of after five one-minute retries. Model ``failing`` belongs to this file.
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import ONE
from tests.support.savedmodels import write_broken_version
from tests.support.watched_server import WatchedServer

pytestmark = pytest.mark.server


def test_a_version_without_saved_model_pb_ends_with_not_found_and_version_1_serves_on(
    watching: WatchedServer,
) -> None:
    rest = watching.rest
    broken = watching.root / "failing" / "2"
    write_broken_version(broken)

    states = rest.wait_for_states("failing", {2: "END"})

    failed = states[2]
    assert failed.error_code == "NOT_FOUND", failed
    # TensorFlow's SavedModel loader text; it goes on with the directory and advice.
    assert failed.error_message.startswith(
        "Could not find SavedModel .pb or .pbtxt at supplied export directory path: "
    ), failed
    assert str(broken) in failed.error_message, failed
    assert states[1].state == "AVAILABLE", states

    assert rest.predict("failing", ONE).json() == {"predictions": [1.0]}
    assert rest.predict("failing", ONE, version=1).json() == {"predictions": [1.0]}
    pinned = rest.predict("failing", ONE, version=2)
    assert (pinned.status, pinned.error) == (
        404,
        "Servable not found for request: Specific(failing, 2)",
    )
    status = rest.status("failing", version=2).json()["model_version_status"]
    assert status == [
        {
            "version": "2",
            "state": "END",
            "status": {"error_code": "NOT_FOUND", "error_message": failed.error_message},
        }
    ]
    watching.server.assert_alive()
