"""Which APIs a check asks: the transport option, a server without gRPC, golden cases over both.

``--transport`` (``CheckOptions.transport``) chooses the rows: REST's, gRPC's, or both, with the
rows about no one API (layout, load, the in-process declared shapes) kept either way. A server
that names no gRPC target gets its gRPC rows skipped, saying why; the user's golden cases are
asked over both APIs, the gRPC answer compared with ``expected`` as REST would write it. Uses
the package's shared server (``served`` in this folder's conftest).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fashion.check import CheckInputError, CheckOptions, RunningServer, run_check_on_server
from fashion.testing.served import ServedModelServer

pytestmark = pytest.mark.server


def test_the_transport_option_chooses_the_rows(
    served: tuple[ServedModelServer, dict[str, Path]],
) -> None:
    server, bases = served
    rest = run_check_on_server(bases["tf1_examples"], server, CheckOptions(transport="rest"))
    grpc = run_check_on_server(bases["tf1_examples"], server, CheckOptions(transport="grpc"))

    assert rest.passed, rest.table()
    assert grpc.passed, grpc.table()
    assert {row.transport for row in rest.rows} == {"", "rest"}
    assert not [row for row in rest.rows if "grpc" in row.check]
    assert {row.transport for row in grpc.rows} == {"", "grpc"}
    assert [row.check for row in grpc.rows if row.signature == "classify_x_to_y"] == [
        "classify grpc batch 1",
        "classify grpc batch 4",
    ]
    # What is not about one API stays: the layout, the load, the in-process declared shapes.
    shared = [(row.signature, row.check) for row in rest.rows if not row.transport]
    assert shared == [(row.signature, row.check) for row in grpc.rows if not row.transport]
    assert ("serving_default", "declared shapes") in shared


def test_a_server_without_a_grpc_target_skips_the_grpc_rows_and_says_why(
    served: tuple[ServedModelServer, dict[str, Path]],
) -> None:
    server, bases = served
    rest_only = RunningServer(server.url, "keras_good")

    report = run_check_on_server(bases["keras_good"], rest_only)

    assert report.passed, report.table()
    grpc = [row for row in report.rows if row.transport == "grpc"]
    assert [(row.check, row.result.value) for row in grpc] == [("grpc checks", "SKIP")]
    assert grpc[0].detail.startswith(
        "the server has no gRPC target, so nothing was asked over gRPC"
    )
    with pytest.raises(CheckInputError, match="transport 'grpc' needs a gRPC target"):
        run_check_on_server(bases["keras_good"], rest_only, CheckOptions(transport="grpc"))


def test_server_flags_other_than_the_tags_are_refused_for_a_server_already_running(
    served: tuple[ServedModelServer, dict[str, Path]],
) -> None:
    server, bases = served
    flags = ("--saved_model_tags=serve", "--enable_batching")
    with pytest.raises(CheckInputError, match=r"server flags \(--enable_batching\) are for a"):
        run_check_on_server(bases["keras_good"], server, CheckOptions(server_flags=flags))
    tags_only = CheckOptions(server_flags=flags[:1])
    assert run_check_on_server(bases["keras_good"], server, tags_only).passed


def test_golden_cases_are_checked_over_both_apis(
    served: tuple[ServedModelServer, dict[str, Path]], tmp_path: Path
) -> None:
    server, bases = served
    lines = [
        {"instances": [[2.0], [4.0]], "expected": [[3.0], [4.0]]},
        {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}], "expected": [[["", 3.0]]]},
        {"signature_name": "regress_x_to_y2", "examples": [{"x": 2.0}], "expected": [4.0]},
        {"inputs": {"x": [[1.0]]}, "expected": [[9.0]], "version": 1},
    ]  # fmt: skip
    requests = tmp_path / "golden.jsonl"
    requests.write_text("".join(json.dumps(line) + "\n" for line in lines))

    report = run_check_on_server(bases["tf1_examples"], server, CheckOptions(requests=requests))

    golden = {row.check: row for row in report.rows if row.check.startswith("golden")}
    assert [(check, row.result.value, row.transport) for check, row in golden.items()] == [
        ("golden line 1", "PASS", "rest"),
        ("golden line 1 grpc", "PASS", "grpc"),
        ("golden line 2", "PASS", "rest"),
        ("golden line 2 grpc", "PASS", "grpc"),
        ("golden line 3", "PASS", "rest"),
        ("golden line 3 grpc", "PASS", "grpc"),
        ("golden line 4", "FAIL", "rest"),
        ("golden line 4 grpc", "FAIL", "grpc"),
    ]
    # The gRPC answer, written as REST writes it (columnar: "outputs"), against 'expected'.
    assert golden["golden line 4 grpc"].detail == (
        "the answer differs from 'expected': [0][0]: expected 9.0, served 2.5 (|diff| 6.5 > "
        "atol 0 + rtol 1e-06 x |expected|); 1 of 1 numbers differ"
    )
    assert golden["golden line 4 grpc"].max_abs_diff == 6.5
