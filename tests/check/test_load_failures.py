"""A version that fails to load: the check reports the server's own error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion.check import CheckOptions, run_check
from fashion.servers import ModelServerBinary
from tests.check.exports import corrupt_variables
from tests.support.savedmodels import write_affine_model

pytestmark = pytest.mark.server


def test_a_version_with_corrupt_variables_fails_with_the_servers_own_load_error(
    tmp_path: Path, model_server_binary: ModelServerBinary
) -> None:
    base = tmp_path / "rotten"
    corrupt_variables(write_affine_model(base / "1", 0.5))

    report = run_check(base, CheckOptions(), binary=model_server_binary)

    assert not report.passed
    assert [(row.check, row.result.value) for row in report.rows] == [
        ("layout", "PASS"),  # the files are all there; their bytes are not
        ("load", "FAIL"),
    ]
    detail = report.rows[1].detail.splitlines()
    assert detail[0].startswith("the server did not serve it: the server exited")
    assert detail[1].startswith(
        "the server's log: Loading servable: {name: rotten version: 1} failed: "
    )
    assert detail[2].startswith("in-process, the session loader fails too: ")
    # Both name the checked directory's error, not the staged copy's.
    assert "fashion-check-" not in report.rows[1].detail
