"""The report's three forms (table, JSON, JUnit XML), the comparison rules (JSON answers, gRPC
tensors and errors) and the option parsers; all in-process, no model server."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from tensorflow.core.framework.tensor_pb2 import VariantTensorDataProto

from fashion.check import CheckInputError, CheckOptions, CheckReport, CheckRow, Result, parse_dim
from fashion.check.compare import (
    Answer,
    GrpcAnswer,
    compare_grpc,
    compare_json,
    compare_outputs,
    grpc_error_text,
)
from fashion.check.golden import read_golden_lines


def _report() -> CheckReport:
    return CheckReport(
        "models/m",
        "m",
        server="stand-in: python -m fashion.serving",
        rows=[
            CheckRow("", "layout", Result.PASS, 1),
            CheckRow(
                "serving_default",
                "predict row batch 4",
                Result.PASS,
                1,
                0.0,
                1.84,
                transport="rest",
            ),
            CheckRow(
                "serving_default",
                "predict columnar batch 4",
                Result.FAIL,
                1,
                2.5e-3,
                2.0,
                detail="predictions[0][3]: expected 0.25, served 0.2525",
                transport="rest",
            ),
            CheckRow("", "serving_default", Result.WARN, 1, detail="no serving_default"),
            CheckRow("x", "requests", Result.SKIP, 1, detail="no inputs", transport="rest"),
            CheckRow(
                "serving_default",
                "predict grpc batch 4",
                Result.PASS,
                1,
                0.0,
                1.1,
                transport="grpc",
            ),
        ],
        timings={"to_available": 3.21, "checks": 0.4, "total": 4.0},
    )


def test_the_table_has_the_five_columns_a_row_per_check_and_numbered_details() -> None:
    lines = _report().table().splitlines()

    assert lines[0].split() == ["signature", "check", "result", "max", "abs", "diff", "p50", "ms"]
    assert lines[3].split() == [
        "serving_default",
        "predict",
        "row",
        "batch",
        "4",
        "PASS",
        "0",
        "1.8",
    ]
    assert lines[4].split() == [
        "serving_default", "predict", "columnar", "batch", "4", "FAIL", "[3]", "0.0025", "2.0",
    ]  # fmt: skip
    assert "[3] FAIL v1 serving_default: predict columnar batch 4:" in lines
    assert "    predictions[0][3]: expected 0.25, served 0.2525" in lines
    assert lines[-1] == (
        "FAIL: 3 pass, 1 fail, 1 warn, 1 skip (AVAILABLE after 3.2 s, checks 0.4 s, total 4.0 s)"
    )


def test_warnings_and_skips_do_not_fail_the_check() -> None:
    report = _report()
    assert (report.passed, report.exit_code) == (False, 1)
    report.rows = [row for row in report.rows if row.result is not Result.FAIL]
    assert (report.passed, report.exit_code) == (True, 0)
    assert report.summary().startswith("PASS: 3 pass, 1 warn, 1 skip")


def test_the_json_report_has_every_row_and_the_verdict() -> None:
    document = json.loads(_report().to_json())

    assert document["passed"] is False
    assert document["counts"] == {"PASS": 3, "FAIL": 1, "WARN": 1, "SKIP": 1}
    assert document["timings"] == {"to_available": 3.21, "checks": 0.4, "total": 4.0}
    assert document["rows"][2] == {
        "version": 1,
        "signature": "serving_default",
        "check": "predict columnar batch 4",
        "transport": "rest",
        "result": "FAIL",
        "max_abs_diff": 2.5e-3,
        "p50_ms": 2.0,
        "detail": "predictions[0][3]: expected 0.25, served 0.2525",
    }
    assert [row["transport"] for row in document["rows"]] == [
        None, "rest", "rest", None, "rest", "grpc",
    ]  # fmt: skip


def test_the_junit_xml_has_one_testcase_per_row_with_failures_and_skips() -> None:
    root = ET.fromstring(_report().to_junit_xml())
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "1", "1")
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [row.check for row in _report().rows]
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("message") == "predictions[0][3]: expected 0.25, served 0.2525"
    assert cases[2].get("classname") == "fashion.check.m.v1.serving_default"
    assert cases[3].findtext("system-out") == "WARN: no serving_default"
    skipped = cases[4].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "no inputs"
    transports = [case.find("properties/property[@name='transport']") for case in cases]
    assert [p.get("value") if p is not None else None for p in transports] == [
        None, "rest", "rest", None, "rest", "grpc",
    ]  # fmt: skip


def test_the_table_shows_grpc_rows_beside_the_rest_ones() -> None:
    lines = _report().table().splitlines()
    assert lines[7].split() == [
        "serving_default",
        "predict",
        "grpc",
        "batch",
        "4",
        "PASS",
        "0",
        "1.1",
    ]


def test_numbers_compare_within_the_relative_tolerance_and_report_the_largest_difference() -> None:
    same = compare_json({"predictions": [[1.0, 2.0]]}, {"predictions": [[1.0, 2.000001]]}, 1e-6, 0)
    assert (same.same, same.max_abs_diff) == (True, pytest.approx(1e-6))

    off = compare_json({"predictions": [[1.0, 2.0]]}, {"predictions": [[1.0, 2.1]]}, 1e-6, 0)
    assert not off.same
    assert off.difference.startswith("predictions[0][1]: expected 2.0, served 2.1")


def test_structure_strings_and_booleans_must_be_equal() -> None:
    assert compare_json([1, 2], [1, 2, 3], 1e-6, 0).difference == (
        "answer: expected 2 items, served 3 (different shapes)"
    )
    assert compare_json({"a": "x"}, {"a": "y"}, 1e-6, 0).difference == (
        "a: expected 'x', served 'y'"
    )
    assert not compare_json([True], [1], 1e-6, 0).same
    assert compare_json([float("nan")], [float("nan")], 0, 0).same


def test_grpc_tensors_compare_by_dtype_shape_and_value_within_the_tolerance() -> None:
    expected = {"y": np.array([[1.0, 2.0]], np.float32), "label": np.array([b"a"], object)}

    same = compare_outputs(expected, {**expected, "y": expected["y"] + 1e-7}, 1e-6, 0)
    off = compare_outputs(expected, {**expected, "y": np.array([[1.0, 2.5]], np.float32)}, 1e-6, 0)
    double = compare_outputs(expected, {**expected, "y": expected["y"].astype(np.float64)}, 0, 0)
    flat = compare_outputs(expected, {**expected, "y": expected["y"].reshape(-1)}, 0, 0)
    word = compare_outputs(expected, {**expected, "label": np.array([b"b"], object)}, 0, 0)

    assert (same.same, same.max_abs_diff) == (True, pytest.approx(1.19e-7, rel=0.01))
    assert (off.same, off.max_abs_diff) == (False, 0.5)
    assert off.difference == (
        "y[0][1]: expected 2.0, served 2.5 (|diff| 0.5 > atol 0 + rtol 1e-06 x |expected|); "
        "1 of 2 numbers differ"
    )
    assert double.difference == "output 'y' is served as float64, but in-process it is float32"
    assert flat.difference == "output 'y' is served with shape [2], but in-process it has [1, 2]"
    assert word.difference == "label[0]: expected b'a', served b'b'; 1 of 1 values differ"
    assert compare_outputs(expected, {"y": expected["y"]}, 0, 0).difference == (
        "outputs differ: expected ['label', 'y'], served ['y']"
    )


def test_a_differing_tensor_value_is_shown_as_its_own_dtype_prints_it() -> None:
    def difference(dtype: type, expected: list, served: list) -> str:
        return compare_outputs(
            {"v": np.array(expected, dtype)}, {"v": np.array(served, dtype)}, 0, 0
        ).difference

    assert difference(np.int64, [2, 3], [2, 13]).startswith("v[1]: expected 3, served 13 ")
    assert difference(np.float32, [0.1], [0.2]).startswith("v[0]: expected 0.1, served 0.2 ")


def test_variant_tensors_compare_element_by_element_and_are_named_variant() -> None:
    def variants(*type_names: str) -> np.ndarray:
        elements = np.empty(len(type_names), dtype=object)
        for index, type_name in enumerate(type_names):
            elements[index] = VariantTensorDataProto(type_name=type_name)
        return elements

    expected = {"list": variants("tensorflow::TensorList", "tensorflow::TensorList")}
    same = compare_outputs(expected, {"list": variants(*["tensorflow::TensorList"] * 2)}, 0, 0)
    other = compare_outputs(expected, {"list": variants("tensorflow::TensorList", "x")}, 0, 0)
    strings = compare_outputs(expected, {"list": np.array([b"a", b"b"], object)}, 0, 0)

    assert same.same
    assert other.difference == (
        'list[1]: expected type_name: "tensorflow::TensorList", served type_name: "x"; '
        "1 of 2 values differ"
    )
    assert strings.difference == "output 'list' is served as string, but in-process it is variant"


def test_grpc_errors_compare_by_code_and_text_as_tf_serving_cuts_it_at_1024_bytes() -> None:
    long = "é" * 600  # 1200 bytes: cut inside a character
    expected = Answer(status=400, error=long, stage="run", code="INVALID_ARGUMENT")
    cut = "é" * 512 + "...TRUNCATED"

    assert grpc_error_text("short") == "short"
    assert grpc_error_text(long) == cut
    assert compare_grpc(expected, GrpcAnswer(code="INVALID_ARGUMENT", error=cut), 0, 0).same
    whole = compare_grpc(expected, GrpcAnswer(code="INVALID_ARGUMENT", error=long), 0, 0)
    assert not whole.same
    other_code = compare_grpc(expected, GrpcAnswer(code="INTERNAL", error=cut), 0, 0)
    assert other_code.difference.startswith("both failed, differently: expected INVALID_ARGUMENT")
    # JSON's own failure to write an answer does not exist over gRPC: the tensors compare.
    unwritable = Answer(status=400, error="no shape", stage="encode", outputs={"y": np.ones(2)})
    assert compare_grpc(unwritable, GrpcAnswer(outputs={"y": np.ones(2)}), 0, 0).same


def test_the_transport_option_is_rest_grpc_or_both() -> None:
    assert CheckOptions().transport == "both"
    assert (CheckOptions().over_rest, CheckOptions().over_grpc) == (True, True)
    assert (CheckOptions(transport="grpc").over_rest, CheckOptions(transport="rest").over_grpc) == (
        False,
        False,
    )
    with pytest.raises(CheckInputError, match="transport must be one of rest, grpc, both"):
        CheckOptions(transport="http")


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--port=9000", "--port is set by fashion check itself"),
        ("--model_config_file=/x", "--model_config_file is set by fashion check itself"),
        ("--file_system_poll_wait_seconds=5", "--file_system_poll_wait_seconds is set by"),
        ("enable_batching", "a server flag is --name or --name=value, got 'enable_batching'"),
        ("--", "a server flag is --name or --name=value"),
        ("--saved_model_tags=", "--saved_model_tags needs at least one tag"),
        ("--saved_model_tags", "--saved_model_tags needs at least one tag"),
    ],
)
def test_a_server_flag_the_check_sets_itself_or_not_a_flag_is_refused(
    flag: str, message: str
) -> None:
    with pytest.raises(CheckInputError, match=message):
        CheckOptions(server_flags=("--enable_batching", flag))


def test_the_in_process_side_loads_the_metagraph_of_the_servers_saved_model_tags() -> None:
    assert CheckOptions().saved_model_tags == ("serve",)
    flags = ("--enable_batching", "--saved_model_tags=serve,gpu")
    assert CheckOptions(server_flags=flags).saved_model_tags == ("serve", "gpu")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("images=28", ("images", 28, None)), ("tokens:1=16", ("tokens", 16, 1))],
)
def test_dim_options_name_an_input_and_optionally_an_axis(
    text: str, expected: tuple[str, int, int | None]
) -> None:
    dim = parse_dim(text)
    assert (dim.name, dim.size, dim.axis) == expected
    options = CheckOptions(dims=(dim,))
    assert options.dim_size(expected[0], expected[2] or 3) == expected[1]


@pytest.mark.parametrize("text", ["images", "images=-1", "=3", "images:x=2"])
def test_a_malformed_dim_option_is_refused(text: str) -> None:
    with pytest.raises(CheckInputError, match="expected NAME=SIZE or NAME:AXIS=SIZE"):
        parse_dim(text)


def test_a_malformed_golden_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    requests = tmp_path / "golden.jsonl"
    requests.write_text('{"instances": [1.0]}\n\n{"instances": [1.0\n')

    with pytest.raises(CheckInputError) as raised:
        read_golden_lines(requests)
    assert str(raised.value) == (
        f"{requests}:3: malformed JSON line (Expecting ',' delimiter at column 19)"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("[1, 2]", "expected a JSON object (a TF Serving request body), got list"),
        ('{"instances": [1], "rtol": -1}', "rtol must be a non-negative number, got -1"),
        ('{"instances": [1], "version": "2"}', "version must be a version number, got '2'"),
        ('{"instances": [1], "api": "explain"}', "api must be one of predict, classify, regress"),
        ('{"signature_name": 3, "instances": [1]}', "signature_name must be a string, got 3"),
    ],
)
def test_a_golden_line_that_is_not_a_request_is_refused(
    tmp_path: Path, line: str, message: str
) -> None:
    requests = tmp_path / "golden.jsonl"
    requests.write_text(line + "\n")
    with pytest.raises(CheckInputError) as raised:
        read_golden_lines(requests)
    assert str(raised.value) == f"{requests}:1: {message}"


def test_a_detail_quoting_bytes_that_are_not_text_is_escaped_for_the_table_and_xml() -> None:
    # A server error can quote a request's bytes: json gives lone surrogates for non-UTF-8.
    row = CheckRow("s", "predict row batch 1", Result.FAIL, 1, detail="at \udcff\x00;\tok\nnext")
    assert row.detail == "at \\udcff\\x00;\tok\nnext"
    report = CheckReport("p", "m", rows=[row])
    ET.fromstring(report.to_junit_xml().encode("utf-8"))
    report.table().encode("utf-8")
