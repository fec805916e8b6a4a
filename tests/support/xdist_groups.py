"""Send every test file that shares a session server to the same xdist worker.

With ``--dist loadfile`` each file is a unit of work, so a session-scoped server that files on
both workers use starts twice: once per worker process, a few seconds each. The files that use
the same shared server are better sent to one worker as one unit, so that it starts once.

xdist's own ``--dist loadgroup`` should do this from ``xdist_group`` marks, but it passes the
group from worker to controller by rewriting ``item._nodeid``, which pytest 9.2 no longer reads
(pytest-dev/pytest-xdist#1386), so every group is silently ignored. This plugin passes the
groups beside the node ids instead: each worker writes, after collection, which files share a
server into a directory the controller named in the environment, and the controller's scheduler
reads it when it splits the collection into units. The groups are derived from the fixtures
each test uses, so there is no table of files to keep up to date; a run without the directory
(``-n 0``, another ``--dist``, a worker that wrote nothing) schedules file by file as before.

Loaded from the root ``conftest.py`` through ``pytest_plugins``; imports neither TensorFlow nor
the stand-in.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

__all__ = ["SHARED_SERVER_FIXTURES", "groups_of_files", "shared_servers_by_file"]

#: Session and package fixtures that start a server the files using them share (``served`` is
#: ``tests/check``'s). A file using none of them stays a unit of its own.
SHARED_SERVER_FIXTURES = frozenset(
    {"fashion_server", "zoo_server", "watching_server", "fault_server", "fuzz_server", "served"}
)

_DIRECTORY_VARIABLE = "FASHION_XDIST_GROUPS_DIR"


def groups_of_files(servers_by_file: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Each file that uses a shared server, mapped to its unit's name.

    Files are joined when they share a server, and transitively (a file using two servers joins
    both groups), so that each server is used within one unit only. The unit's name lists its
    servers, which is what ``-v`` and a debugger show.
    """
    group_of_server: dict[str, set[str]] = {}
    for servers in servers_by_file.values():
        merged = set(servers)
        for server in servers:
            merged |= group_of_server.get(server, set())
        for server in merged:
            group_of_server[server] = merged
    return {
        path: "+".join(sorted(group_of_server[next(iter(servers))]))
        for path, servers in servers_by_file.items()
        if servers
    }


def shared_servers_by_file(items: Iterable[pytest.Item]) -> dict[str, set[str]]:
    """The shared servers each file's selected tests use.

    A file with slow tests selected (``-m slow``, tox's whole suite) counts as using none: its
    minutes of work are worth a server start of its own, and grouped with the other users of its
    server they would run one after the other (the REST and gRPC 10,000-case fuzzes).
    """
    servers_by_file: dict[str, set[str]] = {}
    with_slow_tests: set[str] = set()
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        used = SHARED_SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        servers_by_file.setdefault(path, set()).update(used)
        if item.get_closest_marker("slow"):
            with_slow_tests.add(path)
    for path in with_slow_tests:
        servers_by_file[path] = set()
    return servers_by_file


def _is_controller(config: pytest.Config) -> bool:
    return (
        not hasattr(config, "workerinput")
        and config.pluginmanager.hasplugin("xdist")
        and bool(getattr(config.option, "numprocesses", None))
        and config.getoption("dist", None) == "loadfile"
    )


def pytest_configure(config: pytest.Config) -> None:
    """On the xdist controller, name the directory the workers write their groups into."""
    if _is_controller(config):
        directory = tempfile.mkdtemp(prefix="fashion-xdist-groups-")
        os.environ[_DIRECTORY_VARIABLE] = directory
        config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
        config.add_cleanup(lambda: os.environ.pop(_DIRECTORY_VARIABLE, None))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker, write which files share which server (every worker collects the same)."""
    directory = os.environ.get(_DIRECTORY_VARIABLE)
    worker = getattr(config, "workerinput", {}).get("workerid")
    if not directory or not worker:
        return
    groups = groups_of_files(shared_servers_by_file(items))
    written = Path(directory) / f"{worker}.json.part"
    written.write_text(json.dumps(groups))
    written.replace(written.with_suffix(""))


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, with the files that share a server as one unit."""
    directory = os.environ.get(_DIRECTORY_VARIABLE)
    if not directory or not _is_controller(config):
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedServerScheduling(LoadFileScheduling):
        """Splits by file, except that files sharing a server make one unit."""

        _groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            if self._groups is None:
                # Read once, when xdist first splits: every worker has finished collecting
                # (and so writing) by then.
                self._groups = {}
                for written in sorted(Path(directory).glob("*.json")):
                    self._groups.update(json.loads(written.read_text()))
            return self._groups.get(path, path)

    return SharedServerScheduling(config, log)
