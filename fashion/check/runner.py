"""``fashion check`` from start to end: layout, server, in-process reference, checks, hot load.

The order is the one the report reads in. The file-system layout rules run first, and a broken
layout ends the check before any server starts. Otherwise the server is started and, while it
starts, TensorFlow is imported, each version parsed, loaded in-process and answered; then the
versions must become AVAILABLE, and each one's metadata, built requests and golden cases are
compared, over REST, gRPC or both (``--transport``); last, ``--new-version`` is hot-loaded
into the same process. Nothing here prints: progress goes to a callback, and the result is a
:class:`~fashion.check.report.CheckReport`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fashion.check.golden import GoldenLine, read_golden_lines, resolve_golden_cases
from fashion.check.layout import ModelLayout, find_versions, read_meta_graph
from fashion.check.options import CheckInputError, CheckOptions, server_flag_name
from fashion.check.readiness import load_row, wait_for_versions
from fashion.check.report import CheckReport, CheckRow, Result
from fashion.check.server import (
    NO_GRPC_TARGET,
    RunningServer,
    ServedModel,
    StartedServer,
    attach,
    start_server,
)
from fashion.servers.binary import ModelServerBinary, ServerStartError, resolve_model_server

if TYPE_CHECKING:
    from fashion.check.version_checks import Clients

__all__ = ["run_check", "run_check_on_server"]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """The default progress callback: say nothing."""


def run_check(
    path: str | Path,
    options: CheckOptions | None = None,
    *,
    progress: Progress | None = None,
    binary: ModelServerBinary | None = None,
) -> CheckReport:
    """Check a model base path (or one version directory) against a server started for it.

    Args:
        path: the model base path, or one SavedModel version directory.
        options: what to check and how (default: ``fashion check``'s defaults).
        progress: called with a line at the start and end of each long step.
        binary: the server to run; default: resolved from ``options.model_server``.

    Returns:
        The report; ``report.passed`` tells the verdict.

    Raises:
        CheckInputError: the path is not a model, a ``--requests`` line is malformed or names an
            unknown signature or version, or ``--new-version`` is not a SavedModel.
        fashion.servers.ServerStartError: the model server cannot be found or started.
    """
    options = options or CheckOptions()
    say = progress or _quiet
    begin = time.monotonic()
    layout, golden, new_version = _read_inputs(path, options)
    report = CheckReport(str(path), layout.model_name, rows=list(layout.rows))
    if layout.broken:
        report.rows.append(_skipped_server_row("the layout is broken"))
        report.timings["total"] = time.monotonic() - begin
        return report
    binary = binary or resolve_model_server(
        options.model_server,
        container_engine=options.container_engine,
        docker_pull=options.docker_pull,
    )
    report.server = binary.description
    with _work_dir(options) as work:
        say(f"starting the model server: {binary.description}")
        with start_server(
            binary, layout.model_name, layout.versions, work, options.server_flags
        ) as served:
            started = time.monotonic()
            _check(served, layout, golden, new_version, options, report, say, started)
    report.timings["total"] = time.monotonic() - begin
    return report


def run_check_on_server(
    path: str | Path,
    server: RunningServer | StartedServer,
    options: CheckOptions | None = None,
    *,
    progress: Progress | None = None,
) -> CheckReport:
    """Run the same checks against a server that is already running and serves ``path``.

    For a pytest fixture that owns its server: ``path`` is the base path (or version directory)
    the server serves; every version in it must be (or become) AVAILABLE there. Nothing is
    started or stopped.

    Args:
        path: what the server serves.
        server: a :class:`RunningServer`, or a server a fixture started (a
            :class:`~fashion.check.server.StartedServer` such as ``serve_model``'s; its model is
            the one its ``--model_name`` or config file gives ``path``, unless
            ``options.model_name`` says).
        options: as for :func:`run_check` (``new_version`` and server flags other than
            ``--saved_model_tags`` excepted).
        progress: called with a line at the start and end of each long step.

    Raises:
        CheckInputError: as :func:`run_check`; also for ``options.new_version``, which needs a
            server that ``fashion check`` starts, when the model's name cannot be told, and for
            ``transport="grpc"`` when the server has no ``grpc_target`` (with ``both``, the
            gRPC rows are skipped, saying so).
    """
    options = options or CheckOptions()
    say = progress or _quiet
    begin = time.monotonic()
    if options.new_version is not None:
        raise CheckInputError("--new-version needs a server that fashion check starts")
    started_with = [
        flag for flag in options.server_flags if server_flag_name(flag) != "saved_model_tags"
    ]
    if started_with:
        raise CheckInputError(
            f"server flags ({' '.join(started_with)}) are for a server that fashion check "
            "starts; only --saved_model_tags, which says which MetaGraph the running server "
            "loads, applies to one already running"
        )
    if not isinstance(server, RunningServer):
        server = RunningServer.of(server, Path(path), options.model_name)
    if options.transport == "grpc" and server.grpc_target is None:
        raise CheckInputError(f"transport 'grpc' needs a gRPC target: {NO_GRPC_TARGET}")
    layout, golden, _ = _read_inputs(path, options, server.model_name)
    report = CheckReport(str(path), server.model_name, rows=list(layout.rows))
    served = attach(server)
    report.server = served.description
    if layout.broken:
        report.rows.append(_skipped_server_row("the layout is broken"))
    else:
        _check(served, layout, golden, None, options, report, say, time.monotonic())
    report.timings["total"] = time.monotonic() - begin
    return report


def _read_inputs(
    path: str | Path, options: CheckOptions, model_name: str | None = None
) -> tuple[ModelLayout, list[GoldenLine], ModelLayout | None]:
    """Everything read before a server starts: the layout, the golden lines, the new version."""
    layout = find_versions(path, model_name or options.model_name)
    golden = read_golden_lines(options.requests) if options.requests else []
    new_version = None
    if options.new_version is not None:
        new_version = find_versions(options.new_version, layout.model_name)
        if not new_version.single_version:
            raise CheckInputError(
                f"--new-version {options.new_version}: not a SavedModel directory (no "
                "saved_model.pb in it)"
            )
    return layout, golden, new_version


@contextmanager
def _work_dir(options: CheckOptions) -> Iterator[Path]:
    if options.work_dir is not None:
        options.work_dir.mkdir(parents=True, exist_ok=True)
        yield Path(tempfile.mkdtemp(prefix="check-", dir=options.work_dir))
        return
    work = Path(tempfile.mkdtemp(prefix="fashion-check-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _skipped_server_row(why: str) -> CheckRow:
    return CheckRow("", "served checks", Result.SKIP, detail=f"not run: {why}")


def _import_tensorflow() -> None:
    """TensorFlow with the server's kernels, and without its C++ start-up chatter."""
    from fashion.quiet_tensorflow import import_tensorflow_quietly
    from fashion.serving.startup.tf_env import use_eigen_kernels

    use_eigen_kernels()
    import_tensorflow_quietly()


def _check(
    served: ServedModel,
    layout: ModelLayout,
    golden: list[GoldenLine],
    new_version: ModelLayout | None,
    options: CheckOptions,
    report: CheckReport,
    say: Progress,
    started: float,
) -> None:
    _import_tensorflow()
    from fashion.check.version_checks import golden_rows, prepare_version, served_rows

    meta_graphs = {}
    for version, directory in sorted(layout.versions.items()):
        meta_graph, row = read_meta_graph(
            version,
            directory,
            single_version=layout.single_version,
            tags=options.saved_model_tags,
        )
        if row is not None:
            report.rows.append(row)
        if meta_graph is not None:
            meta_graphs[version] = meta_graph
    if any(row.result is Result.FAIL for row in report.rows):
        report.rows.append(_skipped_server_row("the layout is broken"))
        return
    cases = []
    if golden and options.requests is not None:
        methods = {
            v: {k: s.method_name for k, s in mg.signature_def.items()}
            for v, mg in meta_graphs.items()
        }
        cases = resolve_golden_cases(options.requests, golden, methods)
    say(f"loading {len(meta_graphs)} version(s) in-process and answering the built requests")
    prepared = {
        v: prepare_version(v, layout.versions[v], mg, options) for v, mg in meta_graphs.items()
    }
    try:
        versions = ", ".join(map(str, sorted(prepared)))
        say(f"waiting for version(s) {versions} of {served.model_name} to be AVAILABLE")
        outcomes = wait_for_versions(
            served, sorted(prepared), timeout=options.ready_timeout, progress=say, started=started
        )
        served_in = [o.seconds for o in outcomes.values() if o.available]
        if served_in:
            report.timings["to_available"] = max(served_in)
        checks_start = time.monotonic()
        say("comparing the served answers with the in-process ones")
        with _clients(served, options) as clients:
            for version, item in sorted(prepared.items()):
                report.rows.append(load_row(item, outcomes[version]))
                if outcomes[version].available and item.reference is not None:
                    report.rows.extend(served_rows(item, clients, options))
            available = {v: p for v, p in prepared.items() if outcomes[v].available}
            report.rows.extend(
                golden_rows(
                    [c for c in cases if c.resolved_version in available], prepared, clients,
                    options,
                )
            )  # fmt: skip
            for case in cases:
                if case.resolved_version not in available:
                    report.rows.append(
                        CheckRow(case.signature_key, f"golden line {case.number}", Result.SKIP,
                                 case.resolved_version, detail="the version is not AVAILABLE")
                    )  # fmt: skip
            if new_version is not None:
                _hot_load(served, new_version, max(prepared) + 1, options, report, say, clients)
        report.timings["checks"] = time.monotonic() - checks_start
    finally:
        for item in prepared.values():
            item.close()


@contextmanager
def _clients(served: ServedModel, options: CheckOptions) -> Iterator[Clients]:
    """The REST client, and the gRPC one when gRPC is checked and the server has a target."""
    from fashion.check.version_checks import Clients

    with served.client(options.request_timeout) as rest:
        if not options.over_grpc:
            yield Clients(rest)
        elif served.grpc_target is None:
            yield Clients(rest, no_grpc=NO_GRPC_TARGET)
        else:
            with served.grpc_client(options.request_timeout) as grpc:
                yield Clients(rest, grpc)


def _hot_load(
    served: ServedModel,
    new_version: ModelLayout,
    number: int,
    options: CheckOptions,
    report: CheckReport,
    say: Progress,
    clients: Clients,
) -> None:
    from fashion.check.version_checks import prepare_version, served_rows

    report.rows.extend(
        CheckRow(r.signature, f"new version {r.check}", r.result, number, detail=r.detail)
        for r in new_version.rows
    )
    if new_version.broken:
        return
    (directory,) = new_version.versions.values()
    meta_graph, row = read_meta_graph(
        number, directory, single_version=True, tags=options.saved_model_tags
    )
    if row is not None:
        report.rows.append(row)
    if meta_graph is None or row is not None:
        return
    pid = served.pid
    item = prepare_version(number, directory, meta_graph, options)
    try:
        say(f"hot-loading {directory} as version {number}")
        staged = time.monotonic()
        served.stage_version(number, directory)
        outcome = wait_for_versions(
            served, [number], timeout=options.ready_timeout, progress=say, started=staged
        )[number]
        report.timings["hot_load"] = outcome.seconds
        row = load_row(item, outcome)
        if row.result is Result.PASS:
            try:
                served.check_alive()
            except ServerStartError as exc:
                row = CheckRow("", "hot load", Result.FAIL, number, detail=str(exc))
            else:
                row = CheckRow(
                    "", "hot load", Result.PASS, number,
                    detail=f"AVAILABLE {outcome.seconds:.1f} s after it appeared, served by "
                    f"the same process (pid {pid}), no restart",
                )  # fmt: skip
        else:
            row = CheckRow("", "hot load", Result.FAIL, number, detail=row.detail)
        report.rows.append(row)
        if outcome.available and item.reference is not None:
            report.rows.extend(served_rows(item, clients, options))
    finally:
        item.close()
