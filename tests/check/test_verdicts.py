"""Every export gets the right verdict: ``fashion check`` against one shared, running server.

One server (the fashion pytest plugin's ``serve_model``) serves the five models of this file
from one model config file: the Keras export the project makes, a TF1 graph with classify and
regress signatures, a model with several inputs and outputs of several dtypes, a model whose
signature lies about its shapes, and a model with everything that only warns. Each is checked
through :func:`fashion.check.run_check_on_server`, the entry point for a fixture that owns its
server, which finds each model's name in the server's config file. One server start, five
verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fashion.check import CheckReport, run_check_on_server
from fashion.testing.plugin import ModelServerFactory, assert_model_serves
from fashion.testing.served import ServedModelServer
from tests.check.exports import (
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
    assert "FAIL: 7 pass, 2 fail" in message


def _results(report: CheckReport) -> dict[tuple[str, str], str]:
    return {(row.signature, row.check): row.result.value for row in report.rows}


def test_a_keras_model_exported_with_fashion_export_passes(
    reports: dict[str, CheckReport],
) -> None:
    report = reports["keras_good"]
    assert report.passed, report.table()
    assert _results(report) == {
        ("", "layout"): "PASS",
        ("", "load"): "PASS",
        ("", "metadata"): "PASS",
        ("serving_default", "predict row batch 1"): "PASS",
        ("serving_default", "predict columnar batch 1"): "PASS",
        ("serving_default", "predict row batch 4"): "PASS",
        ("serving_default", "predict columnar batch 4"): "PASS",
        ("serving_default", "declared shapes"): "PASS",
    }
    assert all(row.max_abs_diff == 0 for row in report.rows if row.check.startswith("predict"))


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
        assert results[(signature, f"{api} batch 1")] == "PASS"
        assert results[(signature, f"{api} batch 4")] == "PASS"
    # Signatures whose input is a float tensor are predicted, whatever their method name.
    assert results[("classify_x2_to_y3", "predict row batch 4")] == "PASS"
    assert results[("serving_default", "predict columnar batch 4")] == "PASS"


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
        "declared shapes",
    ]


def test_a_signature_that_lies_about_its_shapes_fails_and_says_which(
    reports: dict[str, CheckReport],
) -> None:
    report = reports["lying"]
    assert not report.passed
    failed = {(row.signature, row.check): row.detail for row in report.failures()}
    assert sorted(failed) == [
        ("serving_default", "predict row batch 1"),
        ("wide", "declared shapes"),
    ]
    assert (
        "built from the signature's declared inputs (x: float [-1, 3] (x:0)) fails: 400 Matrix "
        "size-incompatible: In[0]: [1,3], In[1]: [4,2] The server answers the same 400."
    ) in failed[("serving_default", "predict row batch 1")]
    assert failed[("wide", "declared shapes")] == (
        "the signature lies about its outputs: output 'y' is declared [-1, 5], but the runs "
        "produced [1, 2] and [4, 2]"
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
