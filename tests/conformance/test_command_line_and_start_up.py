"""``--version``, start-up validation failures, and no open port while the initial models load.

``model_servers/main.cc`` prints the version and, for a failing start, ``Failed to start
server. Error: {CODE_NAME}: {message}`` on stdout and exits 255; the checks are those of
``server.cc`` (``Server::BuildAndStart``) and ``server_core.cc``, and the ports open only once
``ServerCore::Create`` has loaded the initial models. Each failing command line is run once, all
of them side by side (each run imports TensorFlow, seconds of CPU), and the tests read the
outcomes.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fashion.servers import free_ports, port_accepts_connections, wait_until
from fashion.testing.served import spawn_model_server
from tests.support.config_files import ModelEntry, write_model_config
from tests.support.failed_start import failure_line
from tests.support.rest_probe import live_probe
from tests.support.savedmodels import write_broken_version, write_elementwise_affine_model

pytestmark = pytest.mark.server

#: Seconds a failing start-up may take (TensorFlow's import dominates).
EXIT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Outcome:
    """How a server process ended, and its command line."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def _flag(args: Sequence[str], name: str) -> str:
    """The value of ``--name=value`` in a command line."""
    return next(arg for arg in args if arg.startswith(f"--{name}=")).split("=", 1)[1]


@pytest.mark.slow  # about 3 s on the stand-in, which imports TensorFlow to name its version
def test_version_prints_two_lines_and_exits_0(model_server_binary: Any) -> None:
    result = subprocess.run(
        [*model_server_binary.command, "--version"],
        capture_output=True,
        text=True,
        timeout=EXIT_TIMEOUT,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert result.returncode == 0, result
    assert len(lines) == 2, lines
    assert re.fullmatch(r"TensorFlow ModelServer: \S+", lines[0]), lines
    assert re.fullmatch(r"TensorFlow Library: \S+", lines[1]), lines


def test_the_rest_log_line_names_the_port_once_the_models_are_loaded(zoo_server: Any) -> None:
    log = zoo_server.log_text()
    exporting = f"Exporting HTTP/REST API at:localhost:{zoo_server.rest_port} ..."
    assert exporting in log
    # The port opens after the initial loads (server.cc, Server::BuildAndStart), so their log
    # lines (loader_harness.cc, server_core.cc) come first.
    loaded = "Successfully loaded servable version {name: half version: 1}"
    assert loaded in log
    assert log.index(loaded) < log.index(exporting)


def test_the_grpc_port_accepts_connections_once_serving(zoo_server: Any) -> None:
    assert port_accepts_connections(int(_flag(zoo_server.args, "port")))


def _start_all(
    commands: dict[str, tuple[Sequence[str], Path]],
) -> dict[str, Outcome]:
    processes = {
        name: subprocess.Popen(
            list(args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, (args, cwd) in commands.items()
    }
    outcomes = {}
    try:
        for name, process in processes.items():
            stdout, stderr = process.communicate(timeout=EXIT_TIMEOUT)
            outcomes[name] = Outcome(tuple(commands[name][0]), process.returncode, stdout, stderr)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return outcomes


@pytest.fixture(scope="module")
def failed_starts(
    model_server_binary: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    """Every failing command line of this file, run concurrently once."""
    root = tmp_path_factory.mktemp("failed-starts")
    write_elementwise_affine_model(root / "models" / "half" / "1", 0.5, 2.0)
    write_broken_version(root / "models" / "broken" / "1")
    garbage = root / "garbage.config"
    garbage.write_text("model_config_list { config { name: 'half' base_path: }\n")
    labelled = write_model_config(
        root / "labelled.config",
        [ModelEntry("half", root / "models" / "half", labels={"stable": 1})],
    )
    twice = write_model_config(
        root / "twice.config",
        [ModelEntry("half", root / "models" / "half")] * 2,
    )

    def command(*flags: str, grpc_port: int | None = None) -> list[str]:
        rest_port, spare = free_ports(2, besides=[grpc_port] if grpc_port else [])
        return [
            *model_server_binary.command,
            f"--port={spare if grpc_port is None else grpc_port}",
            f"--rest_api_port={rest_port}",
            *flags,
        ]

    half = root / "models" / "half"

    return _start_all(
        {
            "relative": (command("--model_name=half", "--model_base_path=models/half"), root),
            "neither": (command(), root),
            "garbage": (command(f"--model_config_file={garbage}"), root),
            "labels": (command(f"--model_config_file={labelled}"), root),
            "twice": (command(f"--model_config_file={twice}"), root),
            "port0": (command("--model_name=half", f"--model_base_path={half}", grpc_port=0), root),
            "load": (
                command(
                    "--model_name=broken",
                    f"--model_base_path={root / 'models' / 'broken'}",
                    "--max_num_load_retries=0",
                ),
                root,
            ),
        }
    )


def _failure_line(outcome: Outcome) -> str:
    assert outcome.returncode == 255, outcome
    return failure_line(outcome.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command_line", "error"),
    [
        pytest.param(
            "relative",
            "INVALID_ARGUMENT: Expected model half to have an absolute path or URI; got "
            "base_path()=models/half",
            id="a-relative-base-path",
        ),
        pytest.param(
            "neither",
            "INVALID_ARGUMENT: Both server_options.model_base_path and "
            "server_options.model_config_file are empty!",
            id="neither-base-path-nor-config-file",
        ),
        pytest.param(
            "twice",
            "INVALID_ARGUMENT: Illegal to list model half multiple times in config list",
            id="a-model-listed-twice",
        ),
        pytest.param(
            "port0",
            "INVALID_ARGUMENT: At least one of server_options.grpc_port or "
            "server_options.grpc_socket_path must be set.",
            id="grpc-port-0-without-a-socket-path",
        ),
        pytest.param(
            "labels",
            "FAILED_PRECONDITION: Request to assign label to version 1 of model half, which is "
            "not currently available for inference",
            id="labels-at-start-up-without-the-allow-flag",
        ),
    ],
)
def test_an_invalid_command_line_fails_start_up_with_server_cores_error(
    failed_starts: dict[str, Outcome], command_line: str, error: str
) -> None:
    assert _failure_line(failed_starts[command_line]) == f"Failed to start server. Error: {error}"


@pytest.mark.slow
def test_an_unparsable_config_file_fails_start_up(failed_starts: dict[str, Outcome]) -> None:
    outcome = failed_starts["garbage"]
    path = _flag(outcome.args, "model_config_file")
    assert _failure_line(outcome) == (
        f"Failed to start server. Error: INVALID_ARGUMENT: Invalid protobuf file: '{path}'"
    )


@pytest.mark.slow
def test_an_initial_load_that_fails_for_good_fails_start_up(
    failed_starts: dict[str, Outcome],
) -> None:
    line = _failure_line(failed_starts["load"])
    prefix = (
        "Failed to start server. Error: UNKNOWN: 1 servable(s) did not become available: "
        "{{{name: broken version: 1} due to error: NOT_FOUND: "
    )
    assert line.startswith(prefix), line
    assert line.endswith("}, }"), line


@pytest.fixture
def empty_base_path(tmp_path: Path) -> Path:
    base = tmp_path / "late"
    base.mkdir()
    return base


@pytest.mark.slow
def test_no_port_is_open_until_the_first_version_has_loaded(
    xprocess: Any, model_server_binary: Any, empty_base_path: Path
) -> None:
    server = spawn_model_server(
        xprocess,
        model_server_binary,
        "late-version-server",
        model_name="late",
        base_path=empty_base_path,
        extra_flags=["--file_system_poll_wait_seconds=1"],
        ready=lambda url: True,  # the process is up; the test watches what it does
    )
    try:
        building = (
            "Building single TensorFlow model file config:  model_name: late "
            f"model_base_path: {empty_base_path}"
        )
        warning = "No versions of servable late found under base path"
        wait_until(lambda: warning in server.log_text(), 60, "the no-versions warning")
        wait_until(lambda: server.log_text().count(warning) >= 2, 10, "a second scan")
        assert building in server.log_text()
        assert not port_accepts_connections(server.rest_port)
        assert not port_accepts_connections(int(_flag(server.args, "port")))

        write_elementwise_affine_model(empty_base_path / "1.building", 0.5, 2.0)
        (empty_base_path / "1.building").rename(empty_base_path / "1")
        appeared = time.monotonic()
        wait_until(lambda: port_accepts_connections(server.rest_port), 30, "the REST port")
        print(f"REST port open {time.monotonic() - appeared:.2f} s after version 1 appeared")

        rest = live_probe(server)
        # Ports open only once the initial model is AVAILABLE (server.cc, Server::BuildAndStart).
        assert rest.version_states("late")[1].state == "AVAILABLE"
        assert rest.predict("late", {"instances": [1.0]}).json() == {"predictions": [2.5]}
        server.assert_alive()
    finally:
        server.stop()
