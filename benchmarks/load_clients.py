"""Load generation and timing helpers of :mod:`benchmarks.serving_bench`.

Client processes are started with ``spawn`` and import this module only, which needs nothing
beyond the standard library at import time: a client costs the machine as little as possible.
"""

from __future__ import annotations

import http.client
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MODEL_NAME",
    "PREDICT_PATH",
    "TIMEOUT",
    "Rate",
    "p50_p99_ms",
    "post",
    "server_rate",
    "threaded_rate",
]

MODEL_NAME = "fashion_model"
PREDICT_PATH = f"/v1/models/{MODEL_NAME}:predict"
TIMEOUT = 30.0  # seconds any single request or start-up step may take
_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Rate:
    """Throughput of the stand-in under N clients, and where the machine's CPU went."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_ms_per_request: float
    client_cores: float
    other_cores: float


def post(connection: http.client.HTTPConnection, body: bytes) -> bytes:
    """One predict on a keep-alive connection; raises RuntimeError unless it answers 200."""
    connection.request("POST", PREDICT_PATH, body=body, headers=_HEADERS)
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"predict answered {response.status}: {data[:300]!r}")
    return data


def p50_p99_ms(samples: Sequence[float]) -> tuple[float, float]:
    """Median and 99th percentile of durations in seconds, in milliseconds."""
    import numpy as np

    if not samples:
        return float("nan"), float("nan")
    p50, p99 = np.percentile(np.asarray(samples), [50, 99])
    return float(p50) * 1000, float(p99) * 1000


def _client_worker(
    port: int, body: bytes, duration: float, max_requests: int, barrier: Any, results: Any
) -> None:
    """One load-generating client process: keep-alive POSTs until the window closes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    latencies: list[float] = []
    errors = 0
    try:
        post(connection, body)  # connect and warm up outside the window
        barrier.wait(TIMEOUT)
        cpu_start = time.process_time()
        stop = time.monotonic() + duration
        for _ in range(max_requests):
            start = time.monotonic()
            try:
                post(connection, body)
            except (RuntimeError, OSError, http.client.HTTPException):
                errors += 1
                connection.close()
            end = time.monotonic()
            if end > stop:
                break
            latencies.append(end - start)
        cpu = time.process_time() - cpu_start
    finally:
        connection.close()
    results.put((latencies, errors, cpu))


def _busy_seconds() -> float:
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def server_rate(port: int, pid: int, body: bytes, clients: int, duration: float) -> Rate:
    """Requests/s of the stand-in (process ``pid``) under ``clients`` client processes.

    The clients connect and warm up, then all start at a barrier and send for ``duration``
    seconds; over the same window the CPU time of the server, of the clients (their own
    ``process_time``) and of the whole machine is read, so the rest is everything else.
    """
    import psutil

    server = psutil.Process(pid)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(clients + 1)
    results = context.Queue()
    max_requests = int(duration * 20_000) + 1
    workers = [
        context.Process(
            target=_client_worker,
            args=(port, body, duration, max_requests, barrier, results),
            daemon=True,
        )
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    try:
        barrier.wait(TIMEOUT * 2)
        server_cpu, busy, own = sum(server.cpu_times()[:2]), _busy_seconds(), time.process_time()
        time.sleep(duration)  # the measurement window itself
        server_cpu = sum(server.cpu_times()[:2]) - server_cpu
        busy, own = _busy_seconds() - busy, time.process_time() - own
        outcomes = [results.get(timeout=duration + TIMEOUT) for _ in workers]
    finally:
        for worker in workers:
            worker.join(TIMEOUT)
            if worker.is_alive():
                worker.terminate()
    latencies = [x for outcome in outcomes for x in outcome[0]]
    client_cpu = sum(outcome[2] for outcome in outcomes)
    p50, p99 = p50_p99_ms(latencies)
    return Rate(
        requests_per_second=len(latencies) / duration,
        p50_ms=p50,
        p99_ms=p99,
        errors=sum(outcome[1] for outcome in outcomes),
        server_cpu_ms_per_request=server_cpu * 1000 / max(len(latencies), 1),
        client_cores=client_cpu / duration,
        other_cores=max(busy - server_cpu - client_cpu - own, 0.0) / duration,
    )


def threaded_rate(call: Callable[[], object], threads: int, duration: float) -> float:
    """Calls per second of ``call`` from ``threads`` threads of this process."""
    barrier = threading.Barrier(threads + 1)
    counts = [0] * threads
    max_calls = int(duration * 20_000) + 1

    def work(slot: int) -> None:
        barrier.wait(TIMEOUT)
        stop = time.monotonic() + duration
        for _ in range(max_calls):
            call()
            if time.monotonic() > stop:
                break
            counts[slot] += 1

    pool = [threading.Thread(target=work, args=(slot,), daemon=True) for slot in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait(TIMEOUT)
    for thread in pool:
        thread.join(duration + TIMEOUT)
    return sum(counts) / duration
