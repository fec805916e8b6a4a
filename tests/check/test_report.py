"""The report's three forms (table, JSON, JUnit XML), the comparison rules and the option parsers;
all in-process, no model server."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fashion.check import CheckInputError, CheckOptions, CheckReport, CheckRow, Result, parse_dim
from fashion.check.compare import compare_json
from fashion.check.golden import read_golden_lines


def _report() -> CheckReport:
    return CheckReport(
        "models/m",
        "m",
        server="stand-in: python -m fashion.serving",
        rows=[
            CheckRow("", "layout", Result.PASS, 1),
            CheckRow("serving_default", "predict row batch 4", Result.PASS, 1, 0.0, 1.84),
            CheckRow(
                "serving_default",
                "predict columnar batch 4",
                Result.FAIL,
                1,
                2.5e-3,
                2.0,
                detail="predictions[0][3]: expected 0.25, served 0.2525",
            ),
            CheckRow("", "serving_default", Result.WARN, 1, detail="no serving_default"),
            CheckRow("x", "requests", Result.SKIP, 1, detail="no inputs"),
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
        "FAIL: 2 pass, 1 fail, 1 warn, 1 skip (AVAILABLE after 3.2 s, checks 0.4 s, total 4.0 s)"
    )


def test_warnings_and_skips_do_not_fail_the_check() -> None:
    report = _report()
    assert (report.passed, report.exit_code) == (False, 1)
    report.rows = [row for row in report.rows if row.result is not Result.FAIL]
    assert (report.passed, report.exit_code) == (True, 0)
    assert report.summary().startswith("PASS: 2 pass, 1 warn, 1 skip")


def test_the_json_report_has_every_row_and_the_verdict() -> None:
    document = json.loads(_report().to_json())

    assert document["passed"] is False
    assert document["counts"] == {"PASS": 2, "FAIL": 1, "WARN": 1, "SKIP": 1}
    assert document["timings"] == {"to_available": 3.21, "checks": 0.4, "total": 4.0}
    assert document["rows"][2] == {
        "version": 1,
        "signature": "serving_default",
        "check": "predict columnar batch 4",
        "result": "FAIL",
        "max_abs_diff": 2.5e-3,
        "p50_ms": 2.0,
        "detail": "predictions[0][3]: expected 0.25, served 0.2525",
    }


def test_the_junit_xml_has_one_testcase_per_row_with_failures_and_skips() -> None:
    root = ET.fromstring(_report().to_junit_xml())
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "1", "1")
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
