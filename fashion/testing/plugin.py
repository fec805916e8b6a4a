"""The suite's machinery as a pytest plugin, for any repository that serves TensorFlow models.

Installed with the package (entry point ``pytest11``), it adds:

- ``--model-server`` (and ``$FASHION_MODEL_SERVER``), ``--container-engine``,
  ``--docker-pull``: which server the tests run, and a report-header line that says which one
  and why;
- the ``model_server_binary`` fixture (that choice, resolved once per session);
- the ``serve_model`` fixture: a factory that serves any base path or model config file with
  ``tensorflow_model_server``'s flags, waits until the versions are AVAILABLE, hands back the
  running server (REST URL, gRPC target, clients, log) and stops it at the end of the session;
- the ``real_server_only`` marker: such tests run as strict xfails against the stand-in, so
  they are visible in the summary and never silently skipped;
- :func:`assert_model_serves`, which runs the checks of ``fashion check`` inside a test and
  fails with their table.

The engine is :mod:`fashion.servers` and :mod:`fashion.testing.served`; this module is only the
glue.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from fashion.servers.binary import (
    MODEL_SERVER_CHOICES,
    MODEL_SERVER_ENV,
    ModelServerBinary,
    ServerStartError,
    resolve_model_server,
)
from fashion.testing.served import ServedModelServer, running_model_server

__all__ = ["ModelServerFactory", "assert_model_serves"]

# Since grpcio 1.80 (grpc/grpc#43055), while gRPC channels are busy, a child forked by Popen
# with a preexec_fn (pytest-xprocess starts every server so) can abort before its exec: gRPC's
# fork handler restarts a poller in the child, and close_fds has closed its epoll fd. The
# handlers serve only a child that goes on using gRPC without exec, which no test does. This
# must be set before grpc is imported, and the plugin is loaded before any conftest or test.
FORK_SUPPORT_ENV = "GRPC_ENABLE_FORK_SUPPORT"
os.environ.setdefault(FORK_SUPPORT_ENV, "false")

_BINARY_KEY = pytest.StashKey["ModelServerBinary | ServerStartError"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--model-server``, ``--container-engine`` and ``--docker-pull``."""
    group = parser.getgroup("fashion", "TensorFlow Serving (fashion plugin)")
    group.addoption(
        "--model-server",
        default=None,
        help=f"which model server the serving tests run: {MODEL_SERVER_CHOICES}. "
        f"Also ${MODEL_SERVER_ENV}.",
    )
    group.addoption(
        "--container-engine",
        default=None,
        help="docker (default) or podman, for --model-server docker[:IMAGE]. "
        "Also $FASHION_CONTAINER_ENGINE.",
    )
    group.addoption(
        "--docker-pull",
        action="store_true",
        help="pull a missing image (never done otherwise)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``real_server_only`` marker."""
    config.addinivalue_line(
        "markers",
        "real_server_only: only TF Serving's own server (binary or image) can satisfy it; "
        "a strict xfail against the stand-in",
    )


def _binary(config: pytest.Config) -> ModelServerBinary:
    if _BINARY_KEY not in config.stash:
        try:
            config.stash[_BINARY_KEY] = resolve_model_server(
                config.getoption("--model-server"),
                container_engine=config.getoption("--container-engine"),
                docker_pull=config.getoption("--docker-pull"),
            )
        except ServerStartError as exc:
            config.stash[_BINARY_KEY] = exc
    found = config.stash[_BINARY_KEY]
    if isinstance(found, ServerStartError):
        raise found
    return found


def pytest_report_header(config: pytest.Config) -> list[str]:
    """One line: which model server runs, its version, and why it was picked."""
    try:
        return [f"model server: {_binary(config).description}"]
    except ServerStartError as exc:
        return [f"model server: UNUSABLE: {exc}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``real_server_only`` are expected to fail (never skipped) on the stand-in."""
    if not any(item.get_closest_marker("real_server_only") for item in items):
        return
    try:
        if _binary(config).is_real:
            return
    except ServerStartError:
        return
    for item in items:
        if item.get_closest_marker("real_server_only"):
            item.add_marker(
                pytest.mark.xfail(
                    reason="only TF Serving's own server can satisfy this test",
                    strict=True,
                    run=True,
                )
            )


@pytest.fixture(scope="session")
def model_server_binary(pytestconfig: pytest.Config) -> ModelServerBinary:
    """The server the serving tests run against (see ``--model-server``)."""
    return _binary(pytestconfig)


class ModelServerFactory:
    """Serves base paths or model config files; every server stops when the session ends.

    Call it for a server that lives until the end of the session, or use :meth:`running` for
    one that stops at the end of a ``with`` block.
    """

    def __init__(self, xprocess: Any, binary: ModelServerBinary) -> None:
        self._xprocess = xprocess
        self._binary = binary
        self._stack = ExitStack()
        self._count = 0

    def __call__(
        self,
        base_path: str | Path | None = None,
        *,
        model_name: str = "default",
        config_file: str | Path | None = None,
        extra_flags: tuple[str, ...] | list[str] = (),
        wait_for_versions: tuple[int | None, ...] = (None,),
        name: str | None = None,
    ) -> ServedModelServer:
        """Start a server on ``base_path`` (or ``config_file``) and wait until it serves.

        Args:
            base_path: the model's base path (integer version directories).
            model_name: the model's name (with ``base_path``), or the model awaited.
            config_file: a model config file instead of ``base_path``.
            extra_flags: more ``tensorflow_model_server`` flags.
            wait_for_versions: versions that must be AVAILABLE (None: any).
            name: the server's name in logs and xprocess (default: numbered).

        Raises:
            fashion.servers.ServerStartError: the server exited or was not ready in time,
                with its log.
        """
        return self._stack.enter_context(
            self.running(
                base_path,
                model_name=model_name,
                config_file=config_file,
                extra_flags=extra_flags,
                wait_for_versions=wait_for_versions,
                name=name,
            )
        )

    @contextmanager
    def running(
        self,
        base_path: str | Path | None = None,
        *,
        model_name: str = "default",
        config_file: str | Path | None = None,
        extra_flags: tuple[str, ...] | list[str] = (),
        wait_for_versions: tuple[int | None, ...] = (None,),
        name: str | None = None,
    ) -> Iterator[ServedModelServer]:
        """As calling the factory, but the server stops when the block ends."""
        self._count += 1
        with running_model_server(
            self._xprocess,
            self._binary,
            name or f"served-model-{self._count}",
            model_name=model_name,
            base_path=base_path,
            config_file=config_file,
            extra_flags=list(extra_flags),
            wait_for_versions=wait_for_versions,
        ) as server:
            yield server

    def close(self) -> None:
        """Stop every server still running."""
        self._stack.close()


@pytest.fixture(scope="session")
def serve_model(
    xprocess: Any, model_server_binary: ModelServerBinary
) -> Iterator[ModelServerFactory]:
    """A factory that serves any base path or model config (see :class:`ModelServerFactory`)."""
    factory = ModelServerFactory(xprocess, model_server_binary)
    try:
        yield factory
    finally:
        factory.close()


def assert_model_serves(
    path: str | Path,
    *,
    server: ServedModelServer | None = None,
    binary: ModelServerBinary | None = None,
    **options: Any,
) -> Any:
    """Run the checks of ``fashion check`` on a SavedModel and fail the test with their table.

    Args:
        path: the model's base path or one version directory.
        server: a running server that already serves it (from ``serve_model``; asked over its
            REST URL and its gRPC target); None starts one.
        binary: the server to start when ``server`` is None: pass the ``model_server_binary``
            fixture to honour ``--model-server``; None resolves ``$FASHION_MODEL_SERVER`` or
            ``auto``, as the ``fashion check`` command does.
        options: more options of :class:`fashion.check.CheckOptions` (``rtol``, ``dims``,
            ``transport``...).

    Returns:
        The report, when every check passed.
    """
    from fashion.check import CheckOptions, run_check, run_check_on_server

    if server is not None:
        report = run_check_on_server(Path(path), server, CheckOptions(**options))
    else:
        report = run_check(Path(path), CheckOptions(**options), binary=binary)
    if not report.passed:
        pytest.fail(f"the model does not serve as it should:\n{report.table()}", pytrace=False)
    return report
