"""Steady predict traffic for the reliability tests, and a judge of what each answer carries.

:class:`PredictLoad` keeps N client threads sending the same predict request until it is stopped
or runs out of its request or time budget. Each thread holds its own connection, opened by a
:class:`LoadTransport`: :class:`RestPredict` posts a JSON body through a keep-alive
``requests.Session``; ``tests.support.grpc_predict.GrpcPredict`` calls
``PredictionService/Predict`` on a channel of its own. Threads take the transports in turn, so one
load can mix REST and gRPC clients. :class:`VersionMatcher` names the model version whose outputs
an answer carries, row by row, so that an answer mixing two versions is caught, not just an
answer from neither.

Imports neither TensorFlow nor grpcio (the gRPC transport lives in ``grpc_predict``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import requests

from fashion.servers import WaitTimeoutError, wait_until
from tests.support import QUICK_REQUEST_TIMEOUT
from tests.support.transports import Transport

__all__ = [
    "LoadReport",
    "LoadTransport",
    "Outcome",
    "PredictLoad",
    "RestPredict",
    "Send",
    "VersionMatcher",
]

#: How many failure descriptions a report keeps (the count is always exact).
_KEPT_FAILURES = 20


@dataclass(frozen=True)
class Outcome:
    """What one request got: the version whose outputs came back, or why it failed."""

    version: str | None = None
    failure: str | None = None


class VersionMatcher:
    """Names the version an answer of ``{"predictions": [...]}`` comes from.

    Args:
        expected: each version's outputs for the posted images, by version name (``"v1"``).
        atol: absolute tolerance per value (the server writes float32 with 9 digits).

    Raises:
        ValueError: two versions are not told apart on every row, so a mixed answer could pass.
    """

    def __init__(self, expected: Mapping[str, np.ndarray], *, atol: float = 1e-5) -> None:
        self._expected = {name: np.asarray(value, np.float32) for name, value in expected.items()}
        self._atol = atol
        shapes = {outputs.shape for outputs in self._expected.values()}
        if len(shapes) != 1:
            raise ValueError(f"the versions' outputs differ in shape: {shapes}")
        (self._shape,) = shapes
        names = list(self._expected)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                gaps = np.abs(self._expected[first] - self._expected[second]).max(axis=1)
                if gaps.min() <= 10 * atol:
                    raise ValueError(f"{first} and {second} agree on some row: {gaps.tolist()}")

    def __call__(self, status: int, content: bytes) -> Outcome:
        """Judge one HTTP answer."""
        snippet = content[:200].decode("utf-8", "replace")
        if status != 200:
            return Outcome(failure=f"HTTP {status}: {snippet}")
        try:
            rows = np.asarray(json.loads(content)["predictions"], np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            return Outcome(failure=f"unreadable 200 answer ({exc}): {snippet}")
        return self.judge_rows(rows, snippet)

    def judge_rows(self, rows: np.ndarray, snippet: str = "") -> Outcome:
        """Judge the outputs of an answer that succeeded, whichever transport carried it.

        Args:
            rows: the answer's outputs, one row per image.
            snippet: the start of the answer as received, for the failure text.
        """
        rows = np.asarray(rows, np.float32)
        if rows.shape != self._shape:
            return Outcome(failure=f"outputs of shape {rows.shape}, not {self._shape}: {snippet}")
        per_row = [
            {
                name
                for name, outputs in self._expected.items()
                if np.allclose(rows[index], outputs[index], atol=self._atol, rtol=0)
            }
            for index in range(len(rows))
        ]
        if not all(per_row):
            return Outcome(failure=f"a row matches no version: {snippet}")
        common = set.intersection(*per_row)
        if not common:
            return Outcome(failure=f"rows from different versions: {[sorted(m) for m in per_row]}")
        # The versions differ on every row (checked at construction), so one name is left.
        return Outcome(version=common.pop())


@dataclass
class LoadReport:
    """What a finished :class:`PredictLoad` saw.

    Attributes:
        requests: requests that got an outcome.
        versions: answers per version name.
        failures: how many requests failed (any status but 200, a dropped connection, a timeout,
            outputs of no version or of several).
        failure_samples: the first few failure descriptions.
        per_thread: each thread's versions, in the order its answers arrived.
        transports: each thread's transport (``"rest"``, ``"grpc"``).
        seconds: how long the load ran.
        exhausted: whether it stopped because the request or time budget ran out.
    """

    requests: int
    versions: Counter[str]
    failures: int
    failure_samples: list[str]
    per_thread: list[list[str]]
    transports: list[Transport]
    seconds: float
    exhausted: bool

    def backward_steps(self, order: Sequence[str]) -> list[str]:
        """Threads that got an earlier version after a later one (``order``: earliest first).

        One thread's requests are sequential: once it was answered by the newer version, that
        version was serving, and "latest" never goes back to the older one while it does.
        """
        rank = {name: index for index, name in enumerate(order)}
        steps = []
        for thread, seen in enumerate(self.per_thread):
            ranks = [rank[name] for name in seen]
            for position in range(1, len(ranks)):
                if ranks[position] < ranks[position - 1]:
                    steps.append(f"thread {thread}: {seen[position - 1]} then {seen[position]}")
                    break
        return steps

    def summary(self) -> str:
        """One line for the test output."""
        rate = self.requests / self.seconds if self.seconds else 0.0
        clients = ", ".join(f"{n} {name}" for name, n in sorted(Counter(self.transports).items()))
        return (
            f"{self.requests} requests in {self.seconds:.1f} s ({rate:.0f}/s) by "
            f"{len(self.per_thread)} threads ({clients}): {dict(sorted(self.versions.items()))}, "
            f"{self.failures} failed"
        )


#: Sends one request on a client's connection and judges the answer; never raises.
Send = Callable[[], Outcome]


class LoadTransport(Protocol):
    """How a load's client threads send their request: one connection per thread.

    Attributes:
        name: the transport (``"rest"``, ``"grpc"``), in reports.
        timeout: seconds one request may take (a request that takes longer is a failure).
    """

    name: Transport
    timeout: float

    def connect(self) -> AbstractContextManager[Send]:
        """Open one client's connection; the function it yields sends the request once."""
        ...


@dataclass(frozen=True)
class RestPredict:
    """Posts ``body`` to ``url`` as ``application/json`` through a keep-alive session.

    Attributes:
        url: the predict URL (on 127.0.0.1).
        body: the request body.
        matcher: judges each answer.
        timeout: seconds per request.
    """

    url: str
    body: bytes
    matcher: VersionMatcher
    timeout: float = QUICK_REQUEST_TIMEOUT
    name: Transport = "rest"

    @contextmanager
    def connect(self) -> Iterator[Send]:
        """A session of its own, closed when the thread is done."""
        headers = {"Content-Type": "application/json"}
        with requests.Session() as session:

            def send() -> Outcome:
                try:
                    response = session.post(
                        self.url, data=self.body, headers=headers, timeout=self.timeout
                    )
                except requests.RequestException as exc:
                    return Outcome(failure=f"{type(exc).__name__}: {exc}")
                return self.matcher(response.status_code, response.content)

            yield send


@dataclass
class _Shared:
    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: int = 0
    done: int = 0
    failures: int = 0
    failure_samples: list[str] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    exhausted: bool = False


class PredictLoad:
    """``threads`` clients sending a predict request until stopped or out of budget.

    Use as a context manager: the threads start on entry and are stopped and joined on exit;
    :meth:`report` then tells what happened.

    Args:
        transports: how the clients send (thread ``i`` takes ``transports[i % len]``).
        threads: concurrent clients.
        max_requests: the total request budget.
        max_seconds: the time budget.
    """

    def __init__(
        self,
        transports: LoadTransport | Sequence[LoadTransport],
        *,
        threads: int = 8,
        max_requests: int = 10_000,
        max_seconds: float = 20.0,
    ) -> None:
        if not isinstance(transports, Sequence):
            transports = [transports]
        if not transports:
            raise ValueError("a load needs at least one transport")
        self._transports = [transports[i % len(transports)] for i in range(threads)]
        self._max_requests = max_requests
        self._max_seconds = max_seconds
        self._join_timeout = max(t.timeout for t in self._transports) + 5
        self._stop = threading.Event()
        self._shared = _Shared()
        self._per_thread: list[list[str]] = [[] for _ in range(threads)]
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"predict-load-{i}", daemon=True)
            for i in range(threads)
        ]
        self._started = 0.0
        self._finished: float | None = None

    def __enter__(self) -> PredictLoad:
        self._started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def completed(self) -> int:
        """Requests that got an outcome so far."""
        with self._shared.lock:
            return self._shared.done

    @property
    def running(self) -> bool:
        """Whether any client thread is still sending."""
        return any(thread.is_alive() for thread in self._threads)

    def wait_for_answers(self, count: int, timeout: float) -> None:
        """Wait until ``count`` requests in total have an outcome.

        Raises:
            WaitTimeoutError: not reached within ``timeout`` seconds, or the load ran out of budget
                first (the message says which).
        """

        def reached() -> bool:
            if self.completed >= count:
                return True
            if not self.running:
                raise WaitTimeoutError(
                    f"the load stopped (budget of {self._max_requests} requests / "
                    f"{self._max_seconds:g} s spent) after {self.completed} answers, "
                    f"before {count}"
                )
            return False

        wait_until(reached, timeout, f"{count} predict answers", interval=0.02)

    def stop(self) -> None:
        """Stop sending and wait for the in-flight requests (each bounded by its timeout)."""
        self._stop.set()
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(self._join_timeout)
        if self._finished is None:
            self._finished = time.monotonic()

    def report(self) -> LoadReport:
        """What the load saw; call after :meth:`stop`."""
        shared = self._shared
        with shared.lock:
            return LoadReport(
                requests=shared.done,
                versions=Counter(shared.versions),
                failures=shared.failures,
                failure_samples=list(shared.failure_samples),
                per_thread=[list(seen) for seen in self._per_thread],
                transports=[transport.name for transport in self._transports],
                seconds=(self._finished or time.monotonic()) - self._started,
                exhausted=shared.exhausted,
            )

    def _take_ticket(self) -> bool:
        shared = self._shared
        with shared.lock:
            over_time = time.monotonic() - self._started >= self._max_seconds
            if shared.issued >= self._max_requests or over_time:
                shared.exhausted = True
                return False
            shared.issued += 1
            return True

    def _run(self, index: int) -> None:
        seen = self._per_thread[index]
        with self._transports[index].connect() as send:
            while not self._stop.is_set() and self._take_ticket():
                self._record(send(), seen)

    def _record(self, outcome: Outcome, seen: list[str]) -> None:
        shared = self._shared
        with shared.lock:
            shared.done += 1
            if outcome.version is not None:
                shared.versions[outcome.version] += 1
                seen.append(outcome.version)
            else:
                shared.failures += 1
                if len(shared.failure_samples) < _KEPT_FAILURES:
                    shared.failure_samples.append(outcome.failure or "?")
