"""``fashion demo`` tells the seed's story against a real server process, offline."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from fashion.demo import DemoOptions, run_demo

pytestmark = [pytest.mark.server, pytest.mark.slow]


def test_demo_runs_the_seed_flow_and_stops_its_server(
    tmp_path: Path,
    model_server_binary,
) -> None:
    server = (
        "stand-in" if model_server_binary.kind == "stand-in" else model_server_binary.command[0]
    )
    lines: list[str] = []
    options = DemoOptions(
        synthetic=True,
        epochs=1,
        model_dir=tmp_path / "models",
        model_server=server,
        plot=tmp_path / "seed.png",
        quiet=True,
    )
    assert run_demo(options, lines.append) == 0
    text = "\n".join(lines)
    assert "SYNTHETIC" in text
    assert "model seed-v1: 360,458 parameters" in text
    assert "model seed-v2: 54,410 parameters" in text
    accuracy_lines = [line for line in lines if line.startswith("validation accuracy by epoch: ")]
    assert len(accuracy_lines) == 2  # one epoch each for versions 1 and 2
    for line in accuracy_lines:
        (accuracy,) = line.removeprefix("validation accuracy by epoch: ").split(", ")
        assert 0.0 <= float(accuracy) <= 1.0
    assert "   same answer" in text
    (over_grpc,) = [line for line in lines if "PredictionService/Predict" in line]
    assert over_grpc.startswith("== 4. the same 3 images over gRPC: PredictionService/Predict at ")
    assert lines[lines.index(over_grpc) + 1] == "   same answer as REST"
    assert "   404 {'error': 'Servable not found for request: Specific(fashion_model, 3)'}" in text
    assert "   status: version 2: AVAILABLE, version 1: END" in text
    assert (
        "   /versions/1:predict now: 404 "
        "{'error': 'Servable not found for request: Specific(fashion_model, 1)'}"
    ) in text
    assert lines[-1] == "== server stopped"
    (started,) = [line for line in lines if line.startswith("   server pid ")]
    pid = int(started.split()[2].rstrip(":"))
    assert f"same server process (pid {pid}, still running)" in text
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert (tmp_path / "seed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "models" / "fashion_model").iterdir()) == ["1", "2"]
    predictions = [line for line in lines if line.startswith("  v1 image")]
    # One epoch does not promise three right answers on every TensorFlow; the demo itself checks
    # that the served outputs equal the exported model's, and the serving suite checks labels.
    assert [line.split(":")[0] for line in predictions] == [
        "  v1 image 0", "  v1 image 1", "  v1 image 2"
    ]  # fmt: skip
    assert all(", predicted '" in line for line in predictions)
