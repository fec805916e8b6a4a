"""Waiting for the served versions: each becomes AVAILABLE, or says why it did not.

Kept apart from :mod:`fashion.check.server` (which starts or attaches to the server and reads
its log) because it is the one place that decides a version's load verdict, and the only part
that polls: the runner asks it twice, for the initial versions and for a hot-loaded one.
Readiness is polled through the status API until each version is AVAILABLE or its load failed,
reporting the server's own ``Loading servable: ... failed: ...`` log line; a server that exits
(TF Serving exits when an initial version fails to load) fails every version it had not served.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fashion.check.report import CheckRow, Result
from fashion.check.server import ServedModel
from fashion.check.traps import python_explanation, python_ops
from fashion.clients.errors import ServingConnectionError, ServingHTTPError, ServingTimeoutError
from fashion.servers.binary import ServerStartError
from fashion.servers.waiting import WaitTimeoutError, wait_until

if TYPE_CHECKING:
    from fashion.check.version_checks import PreparedVersion

__all__ = ["LoadOutcome", "load_row", "wait_for_versions"]

_PROGRESS_EVERY = 5.0
_STATUS_TIMEOUT = 2.0


@dataclass(frozen=True)
class LoadOutcome:
    """How one version's load ended.

    Attributes:
        available: whether it became AVAILABLE.
        seconds: from the server's start (or the version's staging) to that moment.
        error: the status API's error (``CODE: message``), or what else went wrong.
        log_line: the server's own ``Loading servable: ... failed: ...`` line, when found.
    """

    available: bool
    seconds: float
    error: str = ""
    log_line: str = ""


def wait_for_versions(
    served: ServedModel,
    versions: Sequence[int],
    *,
    timeout: float,
    progress: Callable[[str], None],
    started: float | None = None,
) -> dict[int, LoadOutcome]:
    """Poll the status API until every version is AVAILABLE or its load has failed.

    Args:
        served: the server.
        versions: the versions to wait for.
        timeout: seconds before the remaining versions count as failed.
        progress: called with a line now and then while waiting.
        started: ``time.monotonic()`` the times count from (default: now).
    """
    start = time.monotonic() if started is None else started
    outcomes: dict[int, LoadOutcome] = {}
    seen = ["no answer yet"]
    last_said = [time.monotonic()]
    with served.client(_STATUS_TIMEOUT) as client:

        def settled() -> bool:
            try:
                served.check_alive()
            except ServerStartError:
                _exited(served, versions, outcomes, time.monotonic() - start)
                return True
            try:
                entries = {entry.version: entry for entry in client.status()}
            except (ServingConnectionError, ServingTimeoutError, ServingHTTPError) as exc:
                seen[0] = str(exc)
                entries = {}
            else:
                seen[0] = ", ".join(f"version {v} {e.state}" for v, e in sorted(entries.items()))
            for version in versions:
                entry = entries.get(version)
                if version in outcomes or entry is None:
                    continue
                elapsed = time.monotonic() - start
                if entry.state == "AVAILABLE":
                    outcomes[version] = LoadOutcome(True, elapsed)
                elif entry.state == "END":
                    message = served.user_text(entry.error_message).strip()
                    error = f"{entry.error_code}: {message.splitlines()[0] if message else ''}"
                    outcomes[version] = LoadOutcome(
                        False, elapsed, f"status END, {error}", served.failed_load_line(version)
                    )
            if time.monotonic() - last_said[0] >= _PROGRESS_EVERY:
                last_said[0] = time.monotonic()
                progress(f"still waiting ({time.monotonic() - start:.0f} s): {seen[0]}")
            return all(version in outcomes for version in versions)

        try:
            wait_until(settled, timeout, "every version AVAILABLE", interval=0.05)
        except WaitTimeoutError:
            for version in versions:
                outcomes.setdefault(
                    version,
                    LoadOutcome(
                        False,
                        time.monotonic() - start,
                        f"not AVAILABLE after {timeout:g} s; last seen: {seen[0]}",
                        served.failed_load_line(version),
                    ),
                )
    return outcomes


def _exited(
    served: ServedModel, versions: Sequence[int], outcomes: dict[int, LoadOutcome], elapsed: float
) -> None:
    start_line = served.start_failure_line()
    for version in versions:
        if version in outcomes:
            continue
        line = served.failed_load_line(version)
        error = "the server exited" + (f": {start_line}" if start_line else "")
        if not line and not start_line:
            error += "; its last log lines:\n" + "\n".join(served.log_text().splitlines()[-15:])
        outcomes[version] = LoadOutcome(False, elapsed, error, line)


def load_row(item: PreparedVersion, outcome: LoadOutcome) -> CheckRow:
    """The ``load`` row of a version: the server's verdict beside the in-process one, and
    why, when a graph that calls Python is the cause."""
    version, in_process_error = item.version, item.load_error
    if outcome.available and not in_process_error:
        return CheckRow("", "load", Result.PASS, version)
    parts = []
    if not outcome.available:
        parts.append(f"the server did not serve it: {outcome.error}")
        if outcome.log_line:
            parts.append(f"the server's log: {outcome.log_line}")
        elif outcome.error.startswith("the server exited"):
            parts.append("(TF Serving exits when any initial version fails to load)")
    if in_process_error:
        first = in_process_error.strip().splitlines()[0]
        parts.append(f"in-process, the session loader fails too: {first}")
    elif not outcome.available:
        parts.append("in-process, the session loader loads it.")
    python = python_ops(item.meta_graph)
    if python and not outcome.available:
        parts.append(python_explanation(python))
    return CheckRow("", "load", Result.FAIL, version, detail="\n".join(parts))
