"""Deleting the serving version brings the next highest back, without a failed request.

A deleted version directory drops out of the aspired set at the next scan
(``sources/storage_path/file_system_storage_path_source.cc``); under the default ``latest``
policy the next highest version on disk becomes aspired and, the policy being
availability-preserving (``core/availability_preserving_policy.cc``), is loaded *before* the
deleted one is unloaded. So the default
route goes from version 2's answers to version 1's with no gap, and version 2 then ends.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from tests.support import QUICK_REQUEST_TIMEOUT
from tests.support.fault_server import FaultServer
from tests.support.traffic import PredictLoad, RestPredict, VersionMatcher

pytestmark = pytest.mark.server

MODEL = "deleted"


def test_deleting_the_highest_version_serves_the_next_highest_without_a_failed_request(
    faults: FaultServer,
    matcher: VersionMatcher,
    predict_body: bytes,
) -> None:
    base: Path = faults.base_paths[MODEL]
    assert [(e.version, e.state) for e in faults.status(MODEL)] == [(2, "AVAILABLE")]
    url = f"{faults.served.url}/v1/models/{MODEL}:predict"
    with PredictLoad(RestPredict(url, predict_body, matcher), threads=4, max_seconds=20) as load:
        load.wait_for_answers(20, timeout=10)
        shutil.rmtree(base / "2")
        faults.wait_for_state(MODEL, 2, "END")
        load.wait_for_answers(load.completed + 50, timeout=10)
    report = load.report()
    print(f"{MODEL}: {report.summary()}")

    assert report.failures == 0, report.failure_samples
    assert report.versions["v2"] > 0
    assert report.versions["v1"] > 0
    assert report.backward_steps(["v2", "v1"]) == []
    assert [(e.version, e.state, e.error_code) for e in faults.status(MODEL)] == [
        (2, "END", "OK"),
        (1, "AVAILABLE", "OK"),
    ]
    gone = requests.post(
        f"{faults.served.url}/v1/models/{MODEL}/versions/2:predict",
        data=predict_body,
        timeout=QUICK_REQUEST_TIMEOUT,
    )
    assert (gone.status_code, gone.json()) == (
        404,
        {"error": f"Servable not found for request: Specific({MODEL}, 2)"},
    )
    assert matcher(*faults.answer("steady", predict_body)).version == "v1"
