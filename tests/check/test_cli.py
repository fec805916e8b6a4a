"""``fashion check`` from the shell: the table, the exit status, --json, --junit-xml, golden cases
(--requests), progress on stderr, and one clear line for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from fashion.cli import main
from fashion.servers import ModelServerBinary
from tests.check.exports import write_keras_export

_REPO = Path(__file__).resolve().parents[2]


def _choice(binary: ModelServerBinary) -> str:
    """The ``--model-server`` value that names the suite's server."""
    if binary.kind == "stand-in":
        return "stand-in"
    if binary.kind == "docker":
        return f"docker:{binary.image}"
    return binary.command[0]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tiny CNN exported with fashion.export as version 1."""
    base = tmp_path_factory.mktemp("cli") / "tiny_model"
    write_keras_export(base)
    return base


def _golden_lines(images: np.ndarray) -> list[dict]:
    from fashion.model import build

    expected = np.asarray(build("tiny", seed=3)(images[:2])).tolist()
    return [
        {"signature_name": "serving_default", "instances": images[:2].tolist(),
         "expected": expected, "atol": 1e-6},
        {"inputs": {"images": images[2:3].tolist()}, "version": 1},
    ]  # fmt: skip


@pytest.mark.slow  # a server and two in-process loads; run_check itself is in the default run
@pytest.mark.server
def test_a_good_export_passes_with_golden_cases_and_writes_json_and_junit_xml(
    tiny_base: Path, tmp_path: Path, model_server_binary: ModelServerBinary
) -> None:
    images = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    requests = tmp_path / "golden.jsonl"
    requests.write_text("".join(json.dumps(line) + "\n" for line in _golden_lines(images)))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}

    result = subprocess.run(
        [
            sys.executable, "-m", "fashion.cli", "check", str(tiny_base),
            "--model-server", _choice(model_server_binary),
            "--requests", str(requests),
            "--json", str(tmp_path / "report.json"),
            "--junit-xml", str(tmp_path / "report.xml"),
        ],
        capture_output=True, text=True, timeout=300, cwd=_REPO, env=env,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["signature", "check", "result", "max", "abs", "diff", "p50", "ms"]
    assert any(line.split()[:4] == ["serving_default", "golden", "line", "1"] for line in lines)
    assert any(
        line.split()[:5] == ["serving_default", "golden", "line", "1", "grpc"] for line in lines
    )
    assert lines[-1].startswith("PASS: 16 pass (AVAILABLE after ")
    # stderr: progress only, without TensorFlow's start-up chatter or Python warnings.
    progress = result.stderr.splitlines()
    assert all(line.startswith("fashion check: ") for line in progress), result.stderr
    assert progress[0].startswith("fashion check: starting the model server: ")
    assert "fashion check: waiting for version(s) 1 of tiny_model to be AVAILABLE" in progress

    document = json.loads((tmp_path / "report.json").read_text())
    assert (document["passed"], document["counts"]["PASS"]) == (True, 16)
    golden = [row for row in document["rows"] if row["check"].startswith("golden")]
    assert [(row["check"], row["result"], row["version"], row["transport"]) for row in golden] == [
        ("golden line 1", "PASS", 1, "rest"),
        ("golden line 1 grpc", "PASS", 1, "grpc"),
        ("golden line 2", "PASS", 1, "rest"),
        ("golden line 2 grpc", "PASS", 1, "grpc"),
    ]
    assert {row["check"] for row in document["rows"] if row["transport"] == "grpc"} == {
        "metadata grpc",
        "predict grpc batch 1",
        "predict grpc batch 4",
        "declared shapes grpc",
        "golden line 1 grpc",
        "golden line 2 grpc",
    }
    assert set(document["timings"]) == {"to_available", "checks", "total"}
    cases = ET.parse(tmp_path / "report.xml").getroot().findall("testsuite/testcase")
    assert len(cases) == len(document["rows"])
    assert not [case for case in cases if case.find("failure") is not None]


def test_a_malformed_golden_line_is_one_line_with_its_number(
    tiny_base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = tmp_path / "golden.jsonl"
    requests.write_text('{"instances": [[1.0]]}\n{"instances": [[1.0]}\n')

    assert main(["check", str(tiny_base), "--requests", str(requests)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"fashion check: error: {requests}:2: malformed JSON line (Expecting ',' delimiter at "
        "column 21)\n"
    )


@pytest.mark.slow  # starts a server (stopped at once), beyond the default run's four
@pytest.mark.server
def test_an_unknown_signature_in_the_golden_cases_is_one_line(
    tiny_base: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    model_server_binary: ModelServerBinary,
) -> None:
    requests = tmp_path / "golden.jsonl"
    requests.write_text('{"signature_name": "serve", "instances": [[1.0]]}\n')
    argv = ["check", str(tiny_base), "--requests", str(requests)]

    assert main([*argv, "--model-server", _choice(model_server_binary)]) == 1

    error = capsys.readouterr().err.splitlines()[-1]
    assert error == (
        f"fashion check: error: {requests}:1: unknown signature 'serve' (version 1 has: "
        "__saved_model_init_op, serving_default)"
    )


def test_a_path_that_is_not_a_model_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"fashion check: error: {tmp_path}: not a model: no saved_model.pb here and no integer "
        "version directories below (expected BASE/1/saved_model.pb or a SavedModel directory)\n"
    )


@pytest.mark.parametrize(
    "argv",
    [["--dim", "images"], ["--rtol", "-1"], ["--batch-size", "0"], ["--transport", "http"]],
)
def test_bad_options_are_usage_errors(
    tiny_base: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["check", str(tiny_base), *argv])
    assert raised.value.code == 2
    assert "fashion check: error: argument" in capsys.readouterr().err
