"""``--new-version``: a second export is hot-loaded into the running server and checked there, over
REST and gRPC."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion.check import CheckOptions, run_check
from fashion.servers import ModelServerBinary
from tests.check.exports import corrupt_variables
from tests.support.savedmodels import write_affine_model

pytestmark = [pytest.mark.server, pytest.mark.slow]


def test_a_new_version_is_served_by_the_same_process_without_a_restart_and_checked(
    tmp_path: Path, model_server_binary: ModelServerBinary
) -> None:
    base = tmp_path / "affine"
    write_affine_model(base / "1", 0.5)
    new = write_affine_model(tmp_path / "exported-later", 3.0)

    report = run_check(base, CheckOptions(new_version=new), binary=model_server_binary)

    assert report.passed, report.table()
    hot = next(row for row in report.rows if row.check == "hot load")
    assert hot.version == 2
    assert "served by the same process (pid " in hot.detail
    assert hot.detail.endswith("no restart")
    version_2 = [(row.signature, row.check) for row in report.rows if row.version == 2]
    assert version_2 == [
        ("", "new version layout"),
        ("", "hot load"),
        ("", "metadata"),
        ("", "metadata grpc"),
        ("serving_default", "predict row batch 1"),
        ("serving_default", "predict columnar batch 1"),
        ("serving_default", "predict row batch 4"),
        ("serving_default", "predict columnar batch 4"),
        ("serving_default", "predict grpc batch 1"),
        ("serving_default", "predict grpc batch 4"),
        ("serving_default", "declared shapes"),
        ("serving_default", "declared shapes grpc"),
    ]
    assert 0 < report.timings["hot_load"] < 30


def test_a_new_version_that_fails_to_load_ends_with_its_status_and_the_servers_log_line(
    tmp_path: Path, model_server_binary: ModelServerBinary
) -> None:
    base = tmp_path / "affine"
    write_affine_model(base / "1", 0.5)
    new = corrupt_variables(write_affine_model(tmp_path / "rotten", 3.0))

    report = run_check(base, CheckOptions(new_version=new), binary=model_server_binary)

    assert not report.passed
    (failure,) = report.failures()
    assert (failure.version, failure.check) == (2, "hot load")
    detail = failure.detail.splitlines()
    assert detail[0].startswith("the server did not serve it: status END, ")
    assert detail[1].startswith(
        "the server's log: Loading servable: {name: affine version: 2} failed: "
    )
    assert detail[2].startswith("in-process, the session loader fails too: ")
    # Version 1 was checked and kept serving.
    assert all(row.result.value == "PASS" for row in report.rows if row.version == 1)
