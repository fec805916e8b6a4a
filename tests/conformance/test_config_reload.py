"""``--model_config_file_poll_wait_seconds`` re-reads the config file and realises it.

As ``model_servers/server.cc`` (``PollFilesystemAndReloadConfig``) and ``server_core.cc``
(``ReloadConfig``) do; ``g3doc/serving_config.md``: the server loads the models of the new file
and unloads those it no longer lists.

The watching server polls its config file every second and runs without
``--allow_version_labels_for_unavailable_models``. Models ``kept``, ``dropped``, and ``added``
and ``extra`` (on disk from the start, but not configured) belong to this file.
"""

from __future__ import annotations

import pytest

from fashion.servers import wait_until
from tests.support.config_files import ModelEntry
from tests.support.rest_probe import ONE
from tests.support.watched_server import WatchedServer

pytestmark = pytest.mark.server


def test_rewriting_the_config_file_adds_and_removes_models_without_a_restart(
    watching: WatchedServer,
) -> None:
    rest, pid = watching.rest, watching.server.pid
    missing = rest.predict("added", ONE)
    assert (missing.status, missing.error) == (404, "Servable not found for request: Latest(added)")

    entries = {name: entry for name, entry in watching.entries.items() if name != "dropped"}
    entries["added"] = ModelEntry("added", watching.root / "added")
    watching.rewrite_config(entries)

    rest.wait_for_states("added", {1: "AVAILABLE"})
    rest.wait_for_states("dropped", {1: "END"})

    assert rest.predict("added", ONE).json() == {"predictions": [1.0]}
    gone = rest.predict("dropped", ONE)
    assert (gone.status, gone.error) == (404, "Servable not found for request: Latest(dropped)")
    # A removed model keeps reporting its versions, in END, with 200 (servable_state_monitor.cc
    # never forgets a version; get_model_status_impl.cc).
    status = rest.status("dropped")
    assert (status.status, status.json()) == (
        200,
        {
            "model_version_status": [
                {
                    "version": "1",
                    "state": "END",
                    "status": {"error_code": "OK", "error_message": ""},
                }
            ]
        },
    )
    assert rest.predict("kept", ONE).json() == {"predictions": [1.0]}
    assert watching.server.pid == pid
    watching.server.assert_alive()


def test_an_unparsable_config_file_is_logged_and_the_old_config_kept(
    watching: WatchedServer,
) -> None:
    with watching.config_restored():
        with watching.logs_again(
            "Failed to read ModelServerConfig file", "the config poller to log the parse failure"
        ):
            watching.config_path.write_text("model_config_list { this is not a config }\n")
        assert watching.rest.predict("kept", ONE).json() == {"predictions": [1.0]}
    watching.server.assert_alive()


def test_labels_follow_the_config_and_a_label_on_an_unavailable_version_fails_the_whole_reload(
    watching: WatchedServer,
) -> None:
    rest = watching.rest
    with watching.config_restored() as original:
        kept = original["kept"]
        labelled = {**original, "kept": ModelEntry("kept", kept.base_path, labels={"now": 1})}
        watching.rewrite_config(labelled)
        wait_until(
            lambda: rest.predict("kept", ONE, label="now").status == 200, 10, "label now on kept"
        )

        refused = {
            **labelled,
            "kept": ModelEntry("kept", kept.base_path, labels={"now": 1, "later": 2}),
            "extra": ModelEntry("extra", watching.root / "extra"),
        }
        with watching.logs_again(
            "PollFilesystemAndReloadConfig failed to ReloadConfig",
            "the reload with a label on a missing version to fail",
        ):
            watching.rewrite_config(refused)
        log = watching.server.log_text()
        assert (
            "Request to assign label to version 2 of model kept, which is not currently "
            "available for inference" in log
        )
        # The previous labels stay in force, and nothing else of the new file is applied
        # (server_core.cc: UpdateModelVersionLabelMap fails before models are added or removed).
        assert rest.predict("kept", ONE, label="now").json() == {"predictions": [1.0]}
        later = rest.predict("kept", ONE, label="later")
        assert (later.status, later.error) == (400, "Unrecognized servable version label: later")
        extra = rest.status("extra")
        assert (extra.status, extra.error) == (404, "Could not find any versions of model extra")
    watching.server.assert_alive()
