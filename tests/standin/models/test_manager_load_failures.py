"""A version that fails to load: retries, the END state with its error, and who serves meanwhile.

Retries and their log lines as in ``util/retrier.cc`` and ``core/loader_harness.cc``; the
start-up summary as ``core/load_servables_fast.cc`` words it; a failed version is not tried
again while it stays on disk (``core/aspired_versions_manager.cc``). Fixtures: ``conftest.py``
of this folder.
"""

from __future__ import annotations

import os
import shutil
import time

from fashion.serving.models.manager import describe_unavailable
from fashion.serving.models.model_spec import VersionPolicy
from fashion.serving.status import Code, ServingStatusError
from tests.support.manager_kit import (
    WAIT_SECONDS,
    available,
    not_found_text,
    place,
    predict,
    status,
)


def test_failed_new_version_keeps_the_old_one_serving_and_ends_with_its_error(
    start_m, builds, base, recorder, ticker
):
    manager = start_m({1: "half"}, also=[ticker.spec])
    recorder.wait_for_status(manager, "m", available(1))
    broken = place(builds["broken"], base, 2)
    failed = (2, "END", "NOT_FOUND", not_found_text(broken))
    recorder.wait_for_status(manager, "m", [failed, *available(1)])
    ticker.wait_scans()
    assert status(manager, "m") == [failed, *available(1)]
    assert predict(manager, "m") == (1, 2.5)
    assert (
        "Encountered an error for servable version {name: m version: 2}: NOT_FOUND: "
        + not_found_text(broken)
    ) in recorder.messages


def test_failed_version_is_retried_only_after_it_left_the_disk_and_came_back(
    start_m, builds, base, recorder, ticker
):
    manager = start_m({1: "half"}, VersionPolicy.all(), also=[ticker.spec])
    recorder.wait_for_status(manager, "m", available(1))
    broken = place(builds["broken"], base, 2)
    failed = (2, "END", "NOT_FOUND", not_found_text(broken))
    recorder.wait_for_status(manager, "m", [failed, *available(1)])
    # Completing the files in place does not help: the version stays failed while on disk.
    shutil.rmtree(broken)
    place(builds["triple"], base, 2)
    ticker.wait_scans()
    assert status(manager, "m") == [failed, *available(1)]
    assert recorder.events.count(("m", 2, "START")) == 1
    # Renamed away and back, it is a new version to the manager and loads.
    os.rename(base / "2", base / "parked")
    ticker.wait_scans()
    os.rename(base / "parked", base / "2")
    recorder.wait_for_status(manager, "m", available(2, 1))
    assert recorder.events.count(("m", 2, "START")) == 2
    assert predict(manager, "m") == (2, 5.0)


def test_load_is_retried_then_start_up_reports_the_failure(start_m, base, recorder):
    manager = start_m({1: "broken"}, max_num_load_retries=2)
    broken = base / "1"
    failures = manager.wait_until_initial_load(WAIT_SECONDS)
    error = ServingStatusError(Code.NOT_FOUND, not_found_text(broken))
    assert [(f.model, f.version, f.error.code, f.error.message) for f in failures] == [
        ("m", 1, Code.NOT_FOUND, error.message)
    ]
    assert describe_unavailable(failures) == (
        "1 servable(s) did not become available: {{{name: m version: 1} due to error: "
        f"NOT_FOUND: {error.message}}}, }}"
    )
    # END is published before the last two log lines, as in TF Serving's LoaderHarness.
    recorder.wait_for_message(
        f"Servable {{name: m version: 1}} cannot be loaded: NOT_FOUND: {error.message}"
    )
    assert recorder.events == [("m", 1, "START"), ("m", 1, "LOADING"), ("m", 1, "END")]
    failed = f"Loading servable: {{name: m version: 1}} failed: NOT_FOUND: {error.message}"
    assert recorder.count(failed) == 3
    for line in (
        "Retrying of Loading servable: {name: m version: 1} retry: 1",
        "Retrying of Loading servable: {name: m version: 1} retry: 2",
        "Retrying of Loading servable: {name: m version: 1} exhausted max_num_retries: 2",
        f"Encountered an error for servable version {{name: m version: 1}}: NOT_FOUND: "
        f"{error.message}",
    ):
        assert recorder.count(line) == 1
    assert "Finished adding/updating models" not in recorder.messages


def test_retries_stop_when_the_version_is_no_longer_aspired(start_m, base, recorder):
    manager = start_m({1: "broken"}, max_num_load_retries=5, load_retry_interval_micros=60_000_000)
    broken = base / "1"
    recorder.wait_for_message(
        f"Loading servable: {{name: m version: 1}} failed: NOT_FOUND: {not_found_text(broken)}"
    )
    assert status(manager, "m") == [(1, "LOADING", "OK", "")]
    began = time.monotonic()
    shutil.rmtree(broken)
    recorder.wait_for(lambda: status(manager, "m")[0][1] == "END", "1 END")
    assert time.monotonic() - began < 5
    assert status(manager, "m") == [(1, "END", "NOT_FOUND", not_found_text(broken))]
    assert recorder.count("Retrying of Loading servable: {name: m version: 1} was cancelled.") == 1
