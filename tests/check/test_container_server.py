"""``fashion check --model-server docker:IMAGE``: the staged versions are copies, not links.

A container sees host directories only through its bind mounts, so a symbolic link from the
staged base path to the checked directory would not resolve inside it; the check stages copies
for a container server. Our machines have no container engine: ``tests/support/fake_docker.py``
on PATH answers for ``docker`` and runs the stand-in with the container's flags, its mounts
mapped back to host directories (see tests/pipeline/test_containers.py).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from fashion.check import CheckOptions, run_check
from tests.support.savedmodels import write_affine_model

pytestmark = [pytest.mark.server, pytest.mark.slow]

_IMAGE = "tensorflow/serving:2.18.0"
_FAKE = Path(__file__).resolve().parents[1] / "support" / "fake_docker.py"


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``docker`` on PATH answered by the fake engine, which has the image."""
    bin_dir, state = tmp_path / "bin", tmp_path / "engine"
    bin_dir.mkdir()
    (state / "containers").mkdir(parents=True)
    (state / "images.txt").write_text(_IMAGE + "\n")
    wrapper = bin_dir / "docker"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{_FAKE}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FASHION_FAKE_DOCKER_STATE", str(state))
    monkeypatch.delenv("FASHION_CONTAINER_ENGINE", raising=False)
    return state


def test_a_container_server_is_given_copies_of_the_versions_and_the_check_passes(
    fake_docker: Path, tmp_path: Path
) -> None:
    base = tmp_path / "affine"
    write_affine_model(base / "1", 0.5)
    work = tmp_path / "work"

    report = run_check(base, CheckOptions(model_server=f"docker:{_IMAGE}", work_dir=work))

    assert report.passed, report.table()
    assert report.server.startswith(f"docker: docker image {_IMAGE} (")
    (staged,) = work.glob("check-*/models/model/1")
    assert staged.is_dir()
    assert not staged.is_symlink()
    assert (staged / "saved_model.pb").read_bytes() == (base / "1" / "saved_model.pb").read_bytes()
