"""Every export gets the right verdict: ``fashion check`` against one shared, running server.

One server (the fashion pytest plugin's ``serve_model``) serves the six models of this file
from one model config file: the Keras export the project makes, a TF1 graph with classify and
regress signatures, a model with several inputs and outputs of several dtypes, a model whose
signature lies about its shapes, a model with everything that only warns, and a model only gRPC
can call. Each is checked through :func:`fashion.check.run_check_on_server`, the entry point for
a fixture that owns its server, which finds each model's name in the server's config file and
its gRPC target on the fixture's server. One server start, every verdict over REST and gRPC,
and the gRPC side's own failures (a disagreement with REST, a wrong dtype, a wrong
``model_spec``, no gRPC target), the transports chosen, and golden cases over both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fashion.check import (
    CheckInputError,
    CheckOptions,
    CheckReport,
    RunningServer,
    run_check_on_server,
)
from fashion.testing.plugin import ModelServerFactory, assert_model_serves
from fashion.testing.served import ServedModelServer
from tests.check.exports import (
    write_grpc_only_model,
    write_keras_export,
    write_lying_model,
    write_multi_io_model,
    write_warnings_model,
)
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.example_models import write_half_plus_two_model

pytestmark = pytest.mark.server

_WRITERS: dict[str, Callable[[Path], Any]] = {
    "keras_good": lambda path: write_keras_export(path.parent, int(path.name)),
    "tf1_examples": write_half_plus_two_model,
    "multi_io": write_multi_io_model,
    "lying": write_lying_model,
    "warnings": write_warnings_model,
    "grpc_only": write_grpc_only_model,
}


@pytest.fixture(scope="module")
def served(
    serve_model: ModelServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServedModelServer, dict[str, Path]]]:
    """The one server, and each model's base path."""
    root = tmp_path_factory.mktemp("check-verdicts")
    bases = {name: root / name for name in _WRITERS}
    for name, write in _WRITERS.items():
        write(bases[name] / "1")
    config = write_model_config(
        root / "models.config", [ModelEntry(name, base) for name, base in bases.items()]
    )
    # Ready once the first model serves; each check waits for its own model's versions.
    with serve_model.running(config_file=config, model_name="keras_good") as server:
        yield server, bases


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
    assert _results(report) == {
        ("", "layout"): "PASS",
        ("", "load"): "PASS",
        ("", "metadata"): "PASS",
        ("", "metadata grpc"): "PASS",
        ("serving_default", "predict row batch 1"): "PASS",
        ("serving_default", "predict columnar batch 1"): "PASS",
        ("serving_default", "predict row batch 4"): "PASS",
        ("serving_default", "predict columnar batch 4"): "PASS",
        ("serving_default", "predict grpc batch 1"): "PASS",
        ("serving_default", "predict grpc batch 4"): "PASS",
        ("serving_default", "declared shapes"): "PASS",
        ("serving_default", "declared shapes grpc"): "PASS",
    }
    requests = [row for row in report.rows if row.check.startswith("predict")]
    assert all(row.max_abs_diff == 0 and row.p50_ms is not None for row in requests)
    assert {row.check: row.transport for row in report.rows} == {
        "layout": "",
        "load": "",
        "metadata": "rest",
        "metadata grpc": "grpc",
        "predict row batch 1": "rest",
        "predict columnar batch 1": "rest",
        "predict row batch 4": "rest",
        "predict columnar batch 4": "rest",
        "predict grpc batch 1": "grpc",
        "predict grpc batch 4": "grpc",
        "declared shapes": "",
        "declared shapes grpc": "grpc",
    }


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
    }
    results = _results(report)
    # Row format cannot carry the scalar output, in-process as on the server: skipped, not failed.
    assert results[("predict", "predict row batch 4")] == "SKIP"
    assert results[("predict", "predict columnar batch 4")] == "PASS"
    # gRPC has no row format: the scalar comes back as a tensor of shape [], as in-process.
    assert results[("predict", "predict grpc batch 4")] == "PASS"
    assert results[("predict", "declared shapes grpc")] == "PASS"


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


def _perturbed(monkeypatch: pytest.MonkeyPatch, method: str, change: Callable[[Any], None]) -> None:
    """Make the gRPC client's ``method`` return its real response, changed in place."""
    from fashion.clients.grpc import GrpcServingClient

    real = getattr(GrpcServingClient, method)

    def changed(self: GrpcServingClient, *args: Any, **kwargs: Any) -> Any:
        response = real(self, *args, **kwargs)
        change(response)
        return response

    monkeypatch.setattr(GrpcServingClient, method, changed)


def _add_to_first_output(response: Any) -> None:
    import tensorflow as tf

    tensor = response.outputs["probabilities"]
    values = tf.make_ndarray(tensor)
    values.flat[0] += 1e-3
    tensor.CopyFrom(tf.make_tensor_proto(values))


def _as_double(response: Any) -> None:
    import tensorflow as tf

    tensor = response.outputs["probabilities"]
    tensor.CopyFrom(tf.make_tensor_proto(tf.make_ndarray(tensor).astype(np.float64)))


def _another_version(response: Any) -> None:
    response.model_spec.version.value = 7


_GRPC_REQUESTS = ["predict grpc batch 1", "predict grpc batch 4"]


@pytest.mark.parametrize(
    ("change", "failing", "says"),
    [
        (_add_to_first_output, _GRPC_REQUESTS, "probabilities[0][0]: expected "),
        (
            _as_double,
            [*_GRPC_REQUESTS, "declared shapes grpc"],
            "output 'probabilities' is served as float64, but in-process it is float32",
        ),
        (
            _another_version,
            _GRPC_REQUESTS,
            "the answer's model_spec names model 'keras_good' version 7 signature "
            "'serving_default'; asked: model 'keras_good' version 1 signature 'serving_default'",
        ),
    ],
    ids=["a value", "a dtype", "the version"],
)
def test_a_grpc_answer_that_differs_from_in_process_fails_its_grpc_rows_only(
    served: tuple[ServedModelServer, dict[str, Path]],
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Any], None],
    failing: list[str],
    says: str,
) -> None:
    server, bases = served
    _perturbed(monkeypatch, "predict_response", change)

    report = run_check_on_server(bases["keras_good"], server)

    failed = {row.check: row.detail for row in report.failures()}
    assert sorted(failed) == sorted(failing), report.table()
    for check in _GRPC_REQUESTS:
        assert failed[check].startswith(says), failed[check]
    assert all(row.transport == "grpc" for row in report.failures())
    if "declared shapes grpc" in failed:  # a dtype the signature does not declare, over gRPC
        assert failed["declared shapes grpc"] == (
            "the signature lies about its outputs: output 'probabilities' is declared float but "
            "gRPC serves it as double"
        )


def test_a_classify_answer_that_differs_over_grpc_fails_its_row(
    served: tuple[ServedModelServer, dict[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bases = served

    def lower_last_score(response: Any) -> None:
        response.result.classifications[-1].classes[0].score -= 0.25

    _perturbed(monkeypatch, "classify_response", lower_last_score)

    report = run_check_on_server(bases["tf1_examples"], server)

    failed = {(row.signature, row.check): row for row in report.failures()}
    assert sorted(failed) == [
        ("classify_x_to_y", "classify grpc batch 1"),
        ("classify_x_to_y", "classify grpc batch 4"),
    ]
    row = failed[("classify_x_to_y", "classify grpc batch 4")]
    assert row.detail.startswith("[3][0][1]: expected "), row.detail
    assert row.max_abs_diff == pytest.approx(0.25)


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
