"""The ``fashion`` command: help, one-line errors, and the train -> export -> inspect path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from pytest_httpserver import HTTPServer

from fashion.cli import main
from fashion.data import CLASS_NAMES, load_synthetic


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("train", "export", "inspect", "predict"):
        assert command in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["fly"],
        ["export", "m.keras", "base", "0"],
        ["train", "--epochs", "x"],
        ["predict", "--url", "localhost:8501"],
        ["predict", "--timeout", "0"],
        ["predict", "--timeout", "nan"],
        ["predict", "--grpc", "http://localhost:8500"],
        ["predict", "--grpc", "localhost"],
        ["predict", "--grpc", "localhost:8500", "--url", "http://localhost:8501"],
    ],
)
def test_bad_arguments_exit_2_with_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "usage: fashion" in capsys.readouterr().err


def test_missing_model_file_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(tmp_path / "none.keras"), str(tmp_path / "base"), "1"]) == 1
    err = capsys.readouterr().err
    assert err == f"fashion export: error: {tmp_path / 'none.keras'}: no such file\n"


@pytest.mark.parametrize(
    "content", [b"not a model", b"PK\x05\x06" + b"\x00" * 18], ids=["text", "empty-zip"]
)
def test_a_file_keras_cannot_load_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    model_file = tmp_path / "m.keras"
    model_file.write_bytes(content)
    assert main(["export", str(model_file), str(tmp_path / "base"), "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"fashion export: error: {model_file}: not a Keras model file Keras can load ("
    )
    assert err.count("\n") == 1
    assert not (tmp_path / "base").exists()


def test_inspect_of_a_non_savedmodel_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"fashion inspect: error: {tmp_path}: no saved_model.pb (is this a SavedModel directory?)\n"
    )


def test_missing_data_directory_is_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--data-dir", str(tmp_path / "nope"), "--quiet"]) == 1
    assert (
        capsys.readouterr().err == f"fashion train: error: {tmp_path / 'nope'}: no such directory\n"
    )


def test_the_command_is_installed_and_fails_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fashion.cli", "inspect", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("(is this a SavedModel directory?)")


def test_train_export_and_inspect_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base"
    model_file = tmp_path / "tiny.keras"
    argv = ["train", "--synthetic", "--model", "tiny", "--epochs", "1", "--quiet"]
    assert (
        main([*argv, "--output", str(model_file), "--export-base", str(base), "--version", "1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "data: synthetic (SYNTHETIC, not Fashion-MNIST)" in out
    assert f"exported version 1: {base / '1'}" in out
    assert main(["export", str(model_file), str(base), "2"]) == 0
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]
    assert main(["export", str(model_file), str(base), "2"]) == 1
    assert "version 2 already exists" in capsys.readouterr().err
    assert main(["inspect", str(base / "2")]) == 0
    assert "inputs['images'] tensor_info:" in capsys.readouterr().out


def test_predict_prints_true_and_predicted_labels(
    httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = load_synthetic().y_test[:2]
    rows = [[1.0 if k == int(label) else 0.0 for k in range(10)] for label in labels]
    httpserver.expect_oneshot_request("/v1/models/fm/versions/1:predict").respond_with_json(
        {"predictions": rows}
    )
    code = main(
        [
            "predict",
            "--synthetic",
            "--url",
            httpserver.url_for("/"),
            "--model-name",
            "fm",
            "--version",
            "1",
            "--count",
            "2",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    names = [CLASS_NAMES[int(label)] for label in labels]
    assert lines == [
        f"image {i} (synthetic data): true {name!r}, predicted {name!r} (p=1.000)"
        for i, name in enumerate(names)
    ]


@pytest.mark.parametrize(
    ("rows", "described"),
    [
        ([[0.5] * 12] * 2, "float32 values of shape (2, 12)"),
        ([["a"] * 10] * 2, "<U1 values of shape (2, 10)"),
        ([0.5, 0.5], "float32 values of shape (2,)"),
    ],
    ids=["12-classes", "strings", "one-number-per-image"],
)
def test_predict_of_a_model_that_is_not_a_classifier_is_one_line_error(
    httpserver: HTTPServer, capsys: pytest.CaptureFixture[str], rows: list, described: str
) -> None:
    httpserver.expect_oneshot_request("/v1/models/fm:predict").respond_with_json(
        {"predictions": rows}
    )
    url = httpserver.url_for("/")
    argv = ["predict", "--synthetic", "--url", url, "--model-name", "fm", "--count", "2"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == (
        f"fashion predict: error: model fm answered {described}; "
        "expected float class probabilities of shape (2, 10)\n"
    )


def test_predict_against_no_server_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert (
        main(["predict", "--synthetic", "--url", f"http://127.0.0.1:{port}", "--timeout", "2"]) == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("fashion predict: error: POST http://127.0.0.1:")
    assert "cannot connect" in err
    assert err.count("\n") == 1


def test_predict_over_grpc_against_no_server_is_one_line_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fashion.servers import free_port

    argv = ["predict", "--synthetic", "--grpc", f"127.0.0.1:{free_port()}", "--timeout", "2"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("fashion predict: error: GetModelMetadata at 127.0.0.1:")
    assert "UNAVAILABLE: failed to connect" in err
    assert err.count("\n") == 1


@pytest.mark.server
def test_predict_over_grpc_prints_what_predict_over_rest_prints(
    fashion_server, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["predict", "--synthetic", "--model-name", "fashion_model", "--version", "1"]
    assert main([*common, "--url", fashion_server.url]) == 0
    over_rest = capsys.readouterr().out
    assert main([*common, "--grpc", fashion_server.grpc_target]) == 0
    over_grpc = capsys.readouterr().out
    assert over_grpc == over_rest
    assert [line.split(":")[0] for line in over_grpc.splitlines()] == [
        "image 0 (synthetic data)", "image 1 (synthetic data)", "image 2 (synthetic data)"
    ]  # fmt: skip


@pytest.mark.server
def test_predict_serve_starts_the_chosen_server_answers_over_grpc_as_over_rest_and_stops_it(
    fashion_server, exported_v1: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["predict", "--synthetic", "--model-name", "fashion_model", "--version", "1"]
    assert main([*common, "--url", fashion_server.url]) == 0
    running = capsys.readouterr().out
    served = [*common, "--serve", str(exported_v1.parent), "--model-server", "stand-in"]
    assert main([*served, "--grpc"]) == 0
    captured = capsys.readouterr()
    assert captured.out == running  # the same model, served by a server of its own
    assert captured.err.startswith(f"serving {exported_v1.parent} as fashion_model: stand-in: ")
    children = psutil.Process().children(recursive=True)
    ours = f"--model_base_path={exported_v1.parent}"
    assert not [child for child in children if ours in child.cmdline()]
