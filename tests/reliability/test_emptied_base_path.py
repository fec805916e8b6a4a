"""A base path emptied of versions unloads them all: 404 for the model, the others unaffected.

In ``sources/storage_path/file_system_storage_path_source.cc``, a base path that exists but has
no numeric child gives a warning on every scan and an empty aspired set, so every loaded version
is unloaded (END, status OK) and requests get 404 ``Servable not found for request: Latest(m)``
(``core/basic_manager.cc``); the status API still lists the ended versions with 200
(``model_servers/get_model_status_impl.cc``). Other models in the same config keep serving.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from fashion.servers import wait_until
from tests.support import QUICK_REQUEST_TIMEOUT
from tests.support.fault_server import FaultServer
from tests.support.traffic import VersionMatcher

pytestmark = pytest.mark.server

MODEL = "emptied"


def test_emptied_base_path_unloads_every_version_and_predict_answers_404_latest(
    faults: FaultServer,
    matcher: VersionMatcher,
    predict_body: bytes,
) -> None:
    base: Path = faults.base_paths[MODEL]
    assert matcher(*faults.answer(MODEL, predict_body)).version == "v1"
    for child in list(base.iterdir()):
        shutil.rmtree(child)
    faults.wait_for_state(MODEL, 1, "END")
    warning = (
        f"No versions of servable {MODEL} found under base path {base}. Did you forget to name "
        "your leaf directory as a number (eg. '/1/')?"
    )
    wait_until(lambda: warning in faults.served.log_text(), 10, "the no-versions warning")

    status, body = faults.answer(MODEL, predict_body)
    assert (status, body) == (
        404,
        b'{\n    "error": "Servable not found for request: Latest(emptied)"\n}',
    )
    metadata = requests.get(
        f"{faults.served.url}/v1/models/{MODEL}/metadata", timeout=QUICK_REQUEST_TIMEOUT
    )
    assert (metadata.status_code, metadata.json()) == (
        404,
        {"error": f"Servable not found for request: Latest({MODEL})"},
    )
    assert [(e.version, e.state, e.error_code) for e in faults.status(MODEL)] == [(1, "END", "OK")]
    assert matcher(*faults.answer("steady", predict_body)).version == "v1"
