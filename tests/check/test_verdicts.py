"""Every export gets the right verdict: ``fashion check`` against one shared, running server.

One server serves the five models of this file (the Keras export the project makes, a TF1 graph
with classify and regress signatures, a model with several inputs and outputs of several dtypes,
a model whose signature lies about its shapes, and a model with everything that only warns), and
each is checked through :func:`fashion.check.check_running_server`, the entry point a pytest
fixture that owns its server uses. One server start for five verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from check_exports import (
    model_writers,
    write_keras_export,
    write_lying_model,
    write_multi_io_model,
    write_warnings_model,
)

from fashion.check import CheckOptions, CheckReport, RunningServer, check_running_server
from fashion.client import ServingClient, ServingError
from fashion.harness import running_model_server

pytestmark = pytest.mark.server

_WRITERS: dict[str, Callable[[Path], Any]] = {
    "keras_good": lambda path: write_keras_export(path.parent, int(path.name)),
    "tf1_examples": lambda path: model_writers().write_half_plus_two_model(path),
    "multi_io": write_multi_io_model,
    "lying": write_lying_model,
    "warnings": write_warnings_model,
}


def _config(bases: dict[str, Path]) -> str:
    entries = "".join(
        f'  config {{ name: "{name}" base_path: "{base}" model_platform: "tensorflow" }}\n'
        for name, base in bases.items()
    )
    return f"model_config_list {{\n{entries}}}\n"


def _all_available(names: list[str]) -> Callable[[str], bool]:
    def ready(url: str) -> bool:
        for name in names:
            with ServingClient(url, name, timeout=2.0) as client:
                try:
                    if not any(entry.state == "AVAILABLE" for entry in client.status()):
                        return False
                except ServingError:
                    return False
        return True

    return ready


@pytest.fixture(scope="module")
def reports(
    xprocess: Any, model_server_binary: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, CheckReport]]:
    """Each model's report, checked against the one server that serves them all."""
    root = tmp_path_factory.mktemp("check-verdicts")
    bases = {name: root / name for name in _WRITERS}
    for name, write in _WRITERS.items():
        write(bases[name] / "1")
    config = root / "models.config"
    config.write_text(_config(bases))
    with running_model_server(
        xprocess, model_server_binary, "check-verdicts", config_file=config,
        ready=_all_available(list(bases)),
    ) as server:  # fmt: skip
        yield {
            name: check_running_server(
                base, RunningServer(server.url, name, server.log_path), CheckOptions()
            )
            for name, base in bases.items()
        }


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
