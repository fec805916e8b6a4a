"""Every export gets the right verdict: ``fashion check`` against one shared, running server.

Each of the six models the package's shared server serves (``served`` in this folder's
conftest) is checked through :func:`fashion.check.run_check_on_server`, the entry point for a
fixture that owns its server, over REST and gRPC; and the plugin's ``assert_model_serves`` runs
the same checks inside a test. What the gRPC side fails on its own, and the choice of
transports, have their own files (``test_grpc_answers``, ``test_transports``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion.check import CheckReport, run_check_on_server
from fashion.testing.plugin import assert_model_serves
from fashion.testing.served import ServedModelServer

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def reports(served: tuple[ServedModelServer, dict[str, Path]]) -> dict[str, CheckReport]:
    """Each model's report, checked against the one server that serves them all."""
    server, bases = served
    return {name: run_check_on_server(base, server) for name, base in bases.items()}


def test_the_plugins_assert_model_serves_runs_these_checks_and_fails_with_the_table(
    served: tuple[ServedModelServer, dict[str, Path]],
) -> None:
    server, bases = served
    assert assert_model_serves(bases["multi_io"], server=server).passed
    with pytest.raises(pytest.fail.Exception) as failed:
        assert_model_serves(bases["lying"], server=server)
    message = str(failed.value)
    assert message.startswith("the model does not serve as it should:\nsignature ")
    assert "FAIL: 10 pass, 4 fail" in message


def _results(report: CheckReport) -> dict[tuple[str, str], str]:
    return {(row.signature, row.check): row.result.value for row in report.rows}


def test_a_keras_model_exported_with_fashion_export_passes_over_rest_and_grpc(
    reports: dict[str, CheckReport],
) -> None:
    report = reports["keras_good"]
    assert report.passed, report.table()
    assert {
        (row.signature, row.check): (row.result.value, row.transport) for row in report.rows
    } == {
        ("", "layout"): ("PASS", ""),
        ("", "load"): ("PASS", ""),
        ("", "metadata"): ("PASS", "rest"),
        ("", "metadata grpc"): ("PASS", "grpc"),
        ("serving_default", "predict row batch 1"): ("PASS", "rest"),
        ("serving_default", "predict columnar batch 1"): ("PASS", "rest"),
        ("serving_default", "predict row batch 4"): ("PASS", "rest"),
        ("serving_default", "predict columnar batch 4"): ("PASS", "rest"),
        ("serving_default", "predict grpc batch 1"): ("PASS", "grpc"),
        ("serving_default", "predict grpc batch 4"): ("PASS", "grpc"),
        ("serving_default", "declared shapes"): ("PASS", ""),
        ("serving_default", "declared shapes grpc"): ("PASS", "grpc"),
    }
    requests = [row for row in report.rows if row.check.startswith("predict")]
    assert all(row.max_abs_diff == 0 and row.p50_ms is not None for row in requests)


def test_a_tf1_graph_is_classified_and_regressed_with_features_from_its_parse_example_node(
    reports: dict[str, CheckReport],
) -> None:
    report = reports["tf1_examples"]
    assert report.passed, report.table()
    results = _results(report)
    for signature, api in (
        ("classify_x_to_y", "classify"),
        ("regress_x_to_y", "regress"),
        ("regress_x_to_y2", "regress"),
    ):
        for batch in (1, 4):
            assert results[(signature, f"{api} batch {batch}")] == "PASS"
            assert results[(signature, f"{api} grpc batch {batch}")] == "PASS"
    # Signatures whose input is a float tensor are predicted, whatever their method name.
    assert results[("classify_x2_to_y3", "predict row batch 4")] == "PASS"
    assert results[("classify_x2_to_y3", "predict grpc batch 4")] == "PASS"
    assert results[("serving_default", "predict columnar batch 4")] == "PASS"
    # Scores are float32 on both sides of a gRPC answer: equal to the last bit.
    grpc = [row for row in report.rows if row.transport == "grpc" and " batch " in row.check]
    assert grpc
    assert all(row.max_abs_diff == 0 for row in grpc)


def test_several_inputs_and_outputs_of_int_string_and_float_dtypes_pass(
    reports: dict[str, CheckReport],
) -> None:
    report = reports["multi_io"]
    assert report.passed, report.table()
    assert [row.check for row in report.rows if row.signature == "serving_default"] == [
        "predict row batch 1",
        "predict columnar batch 1",
        "predict row batch 4",
        "predict columnar batch 4",
        "predict grpc batch 1",
        "predict grpc batch 4",
        "declared shapes",
        "declared shapes grpc",
    ]


def test_a_signature_that_lies_about_its_shapes_fails_and_says_which_over_both_apis(
    reports: dict[str, CheckReport],
) -> None:
    report = reports["lying"]
    assert not report.passed
    failed = {(row.signature, row.check): row.detail for row in report.failures()}
    assert sorted(failed) == [
        ("serving_default", "predict grpc batch 1"),
        ("serving_default", "predict row batch 1"),
        ("wide", "declared shapes"),
        ("wide", "declared shapes grpc"),
    ]
    assert (
        "built from the signature's declared inputs (x: float [-1, 3] (x:0)) fails: 400 Matrix "
        "size-incompatible: In[0]: [1,3], In[1]: [4,2] The server answers the same 400."
    ) in failed[("serving_default", "predict row batch 1")]
    assert (
        "predict grpc batch 1 built from the signature's declared inputs (x: float [-1, 3] "
        "(x:0)) fails: INVALID_ARGUMENT Matrix size-incompatible: In[0]: [1,3], In[1]: [4,2] The "
        "server answers the same INVALID_ARGUMENT over gRPC."
    ) in failed[("serving_default", "predict grpc batch 1")]
    assert failed[("wide", "declared shapes")] == (
        "the signature lies about its outputs: output 'y' is declared [-1, 5], but the runs "
        "produced [1, 2] and [4, 2]"
    )
    assert failed[("wide", "declared shapes grpc")] == (
        "the signature lies about its outputs: output 'y' is declared [-1, 5], but gRPC served "
        "[1, 2] and [4, 2]"
    )


def test_keras_tensor_inputs_no_serving_default_and_non_batch_outputs_warn_without_failing(
    reports: dict[str, CheckReport],
) -> None:
    report = reports["warnings"]
    assert report.passed, report.table()
    warnings = {(row.signature, row.check) for row in report.rows if row.result.value == "WARN"}
    assert warnings == {
        ("", "serving_default"),
        ("predict", "input names"),
        ("predict", "outputs: batch dimension"),
        ("unstable", "outputs: determinism"),
    }
    results = _results(report)
    # Row format cannot carry the scalar output, in-process as on the server: skipped, not failed.
    assert results[("predict", "predict row batch 4")] == "SKIP"
    assert results[("predict", "predict columnar batch 4")] == "PASS"
    # gRPC has no row format: the scalar comes back as a tensor of shape [], as in-process.
    assert results[("predict", "predict grpc batch 4")] == "PASS"
    assert results[("predict", "declared shapes grpc")] == "PASS"


def test_outputs_that_differ_run_to_run_are_compared_by_shape_and_named_in_a_warning(
    reports: dict[str, CheckReport],
) -> None:
    # Random noise and a counter differ between any two runs, in-process as on the server: a
    # value comparison would fail every request and blame the server for the model.
    rows = {row.check: row for row in reports["warnings"].rows if row.signature == "unstable"}
    assert rows["outputs: determinism"].detail.startswith(
        "outputs 'calls', 'noisy' differ between two in-process runs of the same request"
    )
    requests = [check for check in rows if check.startswith("predict")]
    assert len(requests) == 6
    assert {rows[check].result.value for check in requests} == {"PASS"}


def test_inputs_json_cannot_carry_and_a_signature_without_inputs_are_checked_over_grpc_only(
    reports: dict[str, CheckReport],
) -> None:
    report = reports["grpc_only"]
    assert report.passed, report.table()
    rows = {(row.signature, row.check): row for row in report.rows}
    assert [check for signature, check in rows if signature == "serving_default"] == [
        "requests",
        "predict grpc batch 1",
        "predict grpc batch 4",
        "declared shapes",
        "declared shapes grpc",
    ]
    assert rows[("serving_default", "requests")].detail == (
        "inputs 'b' (bfloat16), 'c' (complex64), 'h' (half) and 'u' (uint16): TF Serving's JSON "
        "API cannot carry these dtypes, so the signature is checked over gRPC only"
    )
    assert rows[("serving_default", "requests")].result.value == "SKIP"
    assert rows[("serving_default", "predict grpc batch 4")].max_abs_diff == 0
    assert rows[("constant", "requests")].detail.endswith("; it is checked over gRPC only")
    assert rows[("constant", "predict grpc")].result.value == "PASS"
    assert not [
        row for row in report.rows if row.transport == "rest" and row.result.value == "FAIL"
    ]


def test_a_variant_output_is_compared_over_grpc_and_skipped_where_rest_cannot_write_it(
    reports: dict[str, CheckReport],
) -> None:
    # TF Serving answers a TensorList as variant_val over gRPC (predict_util.cc's AsProtoField)
    # and fails writing it as JSON (json_tensor.cc); a traceback here was KeyError: 21.
    rows = {row.check: row for row in reports["grpc_only"].rows if row.signature == "tensor_list"}
    assert {check: row.result.value for check, row in rows.items() if "grpc" in check} == {
        "predict grpc batch 1": "PASS",
        "predict grpc batch 4": "PASS",
        "declared shapes grpc": "PASS",
    }
    assert rows["predict columnar batch 4"].result.value == "SKIP"
    assert rows["predict columnar batch 4"].detail.endswith(
        "400 Failed to write JSON value for tensor type: variant"
    )
