"""A stand-in for the ``docker`` (or ``podman``) command, for the tests of the container backend.

Our machines have no container engine. This script answers the commands the backend uses
(``version``, ``image inspect``, ``pull``, ``run``, ``ps``, ``logs``, ``stop``, ``rm``), and for
``run`` it parses the arguments it is given, maps every bind mount back to its host directory
(in the flags and inside a mounted model config file), maps the published ports, and executes
``fashion-model-server`` (the stand-in) with the container's flags. Its state (images, containers,
logs) lives in ``$FASHION_FAKE_DOCKER_STATE``; every call is appended to ``calls.log`` there.

What it proves: the command lines the backend builds (entrypoint, ``--init``, names, labels,
ports published on 127.0.0.1, read-only mounts), the rewriting of paths and of model config
files, that a host export appears in the "container", and the life cycle: readiness, an early
exit reported with ``docker logs``, ``stop`` then ``rm -f``, and the removal of leftovers from a
crashed run. What it cannot prove: anything about the ``tensorflow/serving`` image itself (its
entrypoint, its TensorFlow, its file permissions) or about a real engine's networking.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

_STATE_ENV = "FASHION_FAKE_DOCKER_STATE"


def _state() -> Path:
    state = Path(os.environ[_STATE_ENV])
    (state / "containers").mkdir(parents=True, exist_ok=True)
    return state


def _images(state: Path) -> set[str]:
    path = state / "images.txt"
    return set(path.read_text().split()) if path.exists() else set()


def _container_file(state: Path, name: str) -> Path:
    return state / "containers" / f"{name}.json"


def _containers(state: Path) -> dict[str, dict]:
    return {
        path.stem: json.loads(path.read_text())
        for path in sorted((state / "containers").glob("*.json"))
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is not running
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return True


def _server_command() -> list[str]:
    return [sys.executable, "-m", "fashion.serving"]


def _map_path(value: str, mounts: list[tuple[str, str]]) -> str:
    for host, container in sorted(mounts, key=lambda m: -len(m[1])):
        if value == container or value.startswith(container + "/"):
            return host + value[len(container) :]
    return value


def _host_config(path: str, mounts: list[tuple[str, str]], state: Path, name: str) -> str:
    """A copy of a mounted model config file with container base paths mapped to the host."""
    text = Path(path).read_text()
    for host, container in sorted(mounts, key=lambda m: -len(m[1])):
        text = text.replace(f'"{container}', f'"{host}')
    copy = state / f"{name}.config"
    copy.write_text(text)
    return str(copy)


def _run(args: list[str], state: Path) -> int:
    name, labels, mounts, ports, entrypoint, init, remove = "", {}, [], {}, None, False, False
    index = 0
    while index < len(args) and args[index].startswith("-"):
        option = args[index]
        if option in ("--init", "--rm"):
            init |= option == "--init"
            remove |= option == "--rm"
            index += 1
            continue
        value = args[index + 1]
        index += 2
        if option == "--name":
            name = value
        elif option == "--label":
            key, _, label = value.partition("=")
            labels[key] = label
        elif option == "-v":
            host, container, *mode = value.split(":")
            if mode != ["ro"] and not Path(host).is_dir():
                print(f"fake docker: bad mount {value}", file=sys.stderr)
                return 125
            mounts.append((host, container))
        elif option == "-p":
            address, host_port, container_port = value.split(":")
            if address != "127.0.0.1":
                print(f"fake docker: port published beyond 127.0.0.1: {value}", file=sys.stderr)
                return 125
            ports[container_port] = host_port
        elif option == "--entrypoint":
            entrypoint = value
        else:
            print(f"fake docker: unknown run option {option}", file=sys.stderr)
            return 125
    image, flags = args[index], args[index + 1 :]
    if image not in _images(state):
        print(f"Unable to find image '{image}' locally", file=sys.stderr)
        return 125
    if entrypoint != "tensorflow_model_server":
        print(f"fake docker: unexpected entrypoint {entrypoint}", file=sys.stderr)
        return 125
    if flags == ["--version"]:
        return subprocess.call([*_server_command(), "--version"])
    host_flags = []
    for flag in flags:
        key, sep, value = flag.partition("=")
        if key in ("--port", "--rest_api_port") and value in ports:
            value = ports[value]
        elif key == "--model_config_file":
            value = _host_config(_map_path(value, mounts), mounts, state, name)
        else:
            value = _map_path(value, mounts)
        host_flags.append(f"{key}{sep}{value}")
    log_path = state / f"{name}.log"
    with open(log_path, "wb") as log:
        child = subprocess.Popen(
            [*_server_command(), *host_flags], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        record = {
            "pid": child.pid,
            "labels": labels,
            "init": init,
            "mounts": mounts,
            "ports": ports,
            "flags": flags,
            "host_flags": host_flags,
        }
        _container_file(state, name).write_text(json.dumps(record))
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda s, _f: child.send_signal(s))
        assert child.stdout is not None
        for line in child.stdout:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
            log.write(line)
            log.flush()
        code = child.wait()
    if remove:
        _container_file(state, name).unlink(missing_ok=True)
    return code


def _ps(args: list[str], state: Path) -> int:
    wanted, fmt = None, "{{.Names}}"
    for index, arg in enumerate(args):
        if arg == "--filter":
            wanted = args[index + 1].removeprefix("label=")
        if arg == "--format":
            fmt = args[index + 1]
    for name, record in _containers(state).items():
        if wanted is not None and wanted not in record["labels"]:
            continue
        line = fmt.replace("{{.Names}}", name)
        for key, value in record["labels"].items():
            line = line.replace('{{.Label "' + key + '"}}', value)
        print(line)
    return 0


def _stop(name: str, grace: float, state: Path) -> None:
    record = _containers(state).get(name)
    if record is None or not _alive(record["pid"]):
        return
    os.kill(record["pid"], signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(record["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(record["pid"]):
        os.kill(record["pid"], signal.SIGKILL)


def main(argv: list[str]) -> int:
    """Answer one engine command."""
    state = _state()
    with open(state / "calls.log", "a") as calls:
        calls.write(json.dumps([Path(sys.argv[0]).name, *argv]) + "\n")
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    if command == "version":
        print("fake docker for the fashion tests")
        return 0
    if command == "image" and rest[:1] == ["inspect"]:
        return 0 if rest[1] in _images(state) else 1
    if command == "pull":
        with open(state / "images.txt", "a") as images:
            images.write(rest[0] + "\n")
        return 0
    if command == "run":
        return _run(rest, state)
    if command == "ps":
        return _ps(rest, state)
    if command == "logs":
        path = state / f"{rest[0]}.log"
        if not path.exists():
            print(f"Error: No such container: {rest[0]}", file=sys.stderr)
            return 1
        sys.stdout.write(path.read_text(errors="replace"))
        return 0
    if command == "stop":
        _stop(rest[-1], float(rest[rest.index("-t") + 1]) if "-t" in rest else 10.0, state)
        return 0
    if command == "rm":
        name = rest[-1]
        _stop(name, 0.0, state)
        _container_file(state, name).unlink(missing_ok=True)
        return 0
    print(f"fake docker: unsupported command {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
