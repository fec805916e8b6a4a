"""Steady predict traffic for the reliability tests, and a judge of what each answer carries.

:class:`PredictLoad` keeps N client threads posting the same predict body to one URL, each
through its own keep-alive ``requests.Session``, until it is stopped or runs out of its request
or time budget. :class:`VersionMatcher` names the model version whose outputs an answer carries,
row by row, so that an answer mixing two versions is caught, not just an answer from neither.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import requests

from fashion.servers import WaitTimeoutError, wait_until

__all__ = ["LoadReport", "Outcome", "PredictLoad", "VersionMatcher"]

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
        seconds: how long the load ran.
        exhausted: whether it stopped because the request or time budget ran out.
    """

    requests: int
    versions: Counter[str]
    failures: int
    failure_samples: list[str]
    per_thread: list[list[str]]
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
        return (
            f"{self.requests} requests in {self.seconds:.1f} s ({rate:.0f}/s) by "
            f"{len(self.per_thread)} threads: {dict(sorted(self.versions.items()))}, "
            f"{self.failures} failed"
        )


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
    """``threads`` clients posting ``body`` to ``url`` until stopped or out of budget.

    Use as a context manager: the threads start on entry and are stopped and joined on exit;
    :meth:`report` then tells what happened.

    Args:
        url: the predict URL (on 127.0.0.1).
        body: the request body, sent as ``application/json``.
        matcher: judges each answer.
        threads: concurrent clients.
        max_requests: the total request budget.
        max_seconds: the time budget.
        timeout: seconds per request (a request that takes longer is a failure).
    """

    def __init__(
        self,
        url: str,
        body: bytes,
        matcher: VersionMatcher,
        *,
        threads: int = 8,
        max_requests: int = 10_000,
        max_seconds: float = 20.0,
        timeout: float = 10.0,
    ) -> None:
        self._url = url
        self._body = body
        self._matcher = matcher
        self._max_requests = max_requests
        self._max_seconds = max_seconds
        self._timeout = timeout
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
        """Stop sending and wait for the in-flight requests (each bounded by ``timeout``)."""
        self._stop.set()
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(self._timeout + 5)
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
        headers = {"Content-Type": "application/json"}
        with requests.Session() as session:
            while not self._stop.is_set() and self._take_ticket():
                try:
                    response = session.post(
                        self._url, data=self._body, headers=headers, timeout=self._timeout
                    )
                    outcome = self._matcher(response.status_code, response.content)
                except requests.RequestException as exc:
                    outcome = Outcome(failure=f"{type(exc).__name__}: {exc}")
                self._record(outcome, seen)

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
