"""``--model-server docker[:IMAGE]``: the real server's image, run through a container engine.

Our machines have no container engine, so these tests put ``tests/support/fake_docker.py`` on
PATH as ``docker`` (and ``podman``). Its docstring says what that proves (command lines, mounts
and path rewriting, ports, the life cycle, the removal of leftovers) and what it cannot (the
image's own behaviour): every model below is served by the stand-in inside the fake container.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from fashion.clients import ServingClient
from fashion.servers import ModelServerBinary, ServerStartError, resolve_model_server
from fashion.servers.containers import image_from_choice
from fashion.testing.served import running_model_server
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.savedmodels import write_elementwise_affine_model

pytestmark = pytest.mark.server

_IMAGE = "tensorflow/serving:2.18.0"
_FAKE = Path(__file__).resolve().parents[1] / "support" / "fake_docker.py"


class FakeEngine:
    """The fake engine's state directory: images present, containers, calls made."""

    def __init__(self, state: Path) -> None:
        self.state = state

    def add_image(self, image: str) -> None:
        with open(self.state / "images.txt", "a") as images:
            images.write(image + "\n")

    def calls(self, command: str) -> list[list[str]]:
        lines = (self.state / "calls.log").read_text().splitlines()
        return [call[1:] for call in map(json.loads, lines) if call[1:2] == [command]]

    def containers(self) -> list[str]:
        return sorted(path.stem for path in (self.state / "containers").glob("*.json"))

    def record(self, name: str) -> dict[str, Any]:
        return json.loads((self.state / "containers" / f"{name}.json").read_text())

    def leave_a_container(self, name: str, owner_pid: int) -> None:
        """What a run that crashed leaves behind: a labelled container nobody owns."""
        record = {
            "pid": 2**22 + 1,
            "labels": {"fashion.model-server": "1", "fashion.owner-pid": str(owner_pid)},
        }
        (self.state / "containers" / f"{name}.json").write_text(json.dumps(record))


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    """``docker`` and ``podman`` on PATH answered by the fake, with an empty state."""
    bin_dir, state = tmp_path / "bin", tmp_path / "engine"
    bin_dir.mkdir()
    (state / "containers").mkdir(parents=True)
    for name in ("docker", "podman"):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{_FAKE}" "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FASHION_FAKE_DOCKER_STATE", str(state))
    monkeypatch.delenv("FASHION_CONTAINER_ENGINE", raising=False)
    return FakeEngine(state)


@pytest.fixture
def container_server(engine: FakeEngine) -> ModelServerBinary:
    """``--model-server docker:IMAGE``, resolved with the image present in the fake engine."""
    engine.add_image(_IMAGE)
    return resolve_model_server(f"docker:{_IMAGE}")


@pytest.mark.parametrize(
    ("choice", "image"),
    [
        ("docker", "tensorflow/serving:latest"),
        ("docker:tensorflow/serving", "tensorflow/serving:latest"),
        ("docker:tensorflow/serving:2.18.0", "tensorflow/serving:2.18.0"),
        ("docker:registry:5000/serving", "registry:5000/serving:latest"),
        ("docker:tensorflow/serving@sha256:abc", "tensorflow/serving@sha256:abc"),
        ("stand-in", None),
        ("/usr/bin/tensorflow_model_server", None),
    ],
)
def test_the_model_server_choice_names_an_image_with_a_tag(choice: str, image: str | None) -> None:
    assert image_from_choice(choice) == image


def test_a_missing_image_is_never_pulled_and_the_error_names_the_pull_command(
    engine: FakeEngine,
) -> None:
    with pytest.raises(ServerStartError) as info:
        resolve_model_server(f"docker:{_IMAGE}")
    assert f"docker pull {_IMAGE}" in str(info.value)
    assert engine.calls("pull") == []


def test_pulling_happens_when_allowed(engine: FakeEngine) -> None:
    binary = resolve_model_server(f"docker:{_IMAGE}", docker_pull=True)
    assert engine.calls("pull") == [["pull", _IMAGE]]
    assert (binary.kind, binary.image, binary.is_real) == ("docker", _IMAGE, True)


def test_auto_picks_an_engine_that_has_the_image_and_says_why(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.add_image("tensorflow/serving:latest")
    binary = resolve_model_server("auto")
    assert binary.kind == "docker"
    assert "no tensorflow_model_server on PATH; docker has the image" in binary.description


def test_auto_falls_back_to_the_stand_in_without_the_image_and_says_why(
    engine: FakeEngine,
) -> None:
    binary = resolve_model_server("auto")
    assert binary.kind == "stand-in"
    assert "no docker engine with the tensorflow/serving image" in binary.description


def test_podman_is_chosen_by_option_or_environment(
    engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.add_image(_IMAGE)
    assert resolve_model_server(f"docker:{_IMAGE}", container_engine="podman").command == (
        "podman",
    )
    monkeypatch.setenv("FASHION_CONTAINER_ENGINE", "podman")
    assert resolve_model_server(f"docker:{_IMAGE}").command == ("podman",)


def test_a_leftover_of_a_crashed_run_is_removed_at_the_next_start(engine: FakeEngine) -> None:
    engine.add_image(_IMAGE)
    engine.leave_a_container("fashion-model-server-orphan", owner_pid=2**22 + 7)
    engine.leave_a_container("fashion-model-server-mine", owner_pid=os.getpid())
    resolve_model_server(f"docker:{_IMAGE}")
    assert engine.containers() == ["fashion-model-server-mine"]


@pytest.mark.slow  # a whole server behind the fake engine
def test_a_container_serves_with_the_binarys_flags_behind_its_entrypoint(
    engine: FakeEngine, container_server: ModelServerBinary, xprocess: Any, tmp_path: Path
) -> None:
    base = tmp_path / "models" / "half"
    write_elementwise_affine_model(base / "1", 0.5, 2.0)
    with running_model_server(
        xprocess, container_server, "container-single", model_name="half", base_path=base
    ) as server:
        with ServingClient(server.url, "half") as client:
            assert client.predict([1.0, 2.0]).tolist() == [2.5, 3.0]
        (name,) = engine.containers()
        record = engine.record(name)
        assert record["init"] is True
        assert record["labels"]["fashion.owner-pid"] == str(os.getpid())
        assert record["ports"] == {
            str(server.rest_port): str(server.rest_port),
            str(server.grpc_port): str(server.grpc_port),
        }
        # The container gets exactly the binary's flags, the base path a read-only mount.
        (mount_host, mount_path) = record["mounts"][0]
        assert mount_host == str(base.resolve())
        assert record["flags"] == [
            f"--port={server.grpc_port}",
            f"--rest_api_port={server.rest_port}",
            "--model_name=half",
            f"--model_base_path={mount_path}",
        ]
        (run,) = [call for call in engine.calls("run") if "--init" in call]
        assert run[run.index("-v") + 1] == f"{mount_host}:{mount_path}:ro"
        assert run[run.index("--entrypoint") + 1] == "tensorflow_model_server"
        # A version exported on the host appears in the container: hot loading works.
        write_elementwise_affine_model(base / "2", 3.0, 0.0)
        with ServingClient(server.url, "half") as client:
            client.wait_until_available(2, timeout=60)
            assert client.predict([1.0], version=2).tolist() == [3.0]
    assert engine.containers() == []
    assert [call[:3] for call in engine.calls("stop")] == [["stop", "-t", "5"]]
    assert engine.calls("rm")[-1][:2] == ["rm", "-f"]


@pytest.mark.slow  # a whole server behind the fake engine
def test_a_model_config_file_is_rewritten_to_the_containers_paths(
    engine: FakeEngine, container_server: ModelServerBinary, xprocess: Any, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    for name, scale in (("first", 1.0), ("second", 2.0)):
        write_elementwise_affine_model(models / name / "1", scale, 0.0)
    config = write_model_config(
        tmp_path / "models.config",
        [ModelEntry(name, models / name) for name in ("first", "second")],
    )
    ready = {"first": False, "second": False}

    def both_serve(url: str) -> bool:
        for name in ready:
            with ServingClient(url, name, timeout=2.0) as client:
                try:
                    ready[name] = any(s.state == "AVAILABLE" for s in client.status())
                except Exception:
                    return False
        return all(ready.values())

    with running_model_server(
        xprocess, container_server, "container-config", config_file=config, ready=both_serve
    ) as server:
        for name, scale in (("first", 1.0), ("second", 2.0)):
            with ServingClient(server.url, name) as client:
                assert client.predict([1.0]).tolist() == [scale]
        (name,) = engine.containers()
        flags = engine.record(name)["flags"]
        (config_flag,) = [flag for flag in flags if flag.startswith("--model_config_file=")]
        assert not config_flag.startswith(f"--model_config_file={tmp_path}")


def test_a_container_that_exits_early_fails_at_once_with_its_logs(
    engine: FakeEngine, container_server: ModelServerBinary, xprocess: Any, tmp_path: Path
) -> None:
    with (
        pytest.raises(ServerStartError) as info,
        running_model_server(
            xprocess,
            container_server,
            "container-dying",
            model_name="m",
            base_path=tmp_path / "models" / "m",
            extra_flags=["--port=0"],  # no gRPC port and no socket: exit 255
        ),
    ):
        pass
    assert "container logs:" in str(info.value)
    assert "At least one of server_options.grpc_port" in str(info.value)
    assert engine.containers() == []


@pytest.mark.slow
def test_the_serving_suite_runs_unchanged_against_a_container(
    engine: FakeEngine, tmp_path: Path
) -> None:
    """The suite's own tests, with ``--model-server docker:IMAGE``, in a pytest of their own."""
    import subprocess

    engine.add_image(_IMAGE)
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/suite",
            "--basetemp",
            str(tmp_path / "inner"),
            # A cache (so xprocess' control files) of its own: sharing the outer session's
            # would let the inner servers, keyed by the same worker names, kill the outer ones.
            "-o",
            f"cache_dir={tmp_path / 'cache'}",
            f"--model-server=docker:{_IMAGE}",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"model server: docker: docker image {_IMAGE}" in result.stdout
    assert engine.containers() == []
