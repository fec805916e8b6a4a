"""Load generation and timing helpers of :mod:`benchmarks.serving_bench`.

Client processes are started with ``spawn`` and import this module only, which needs nothing
beyond the standard library at import time: a client costs the machine as little as possible.
A REST client is ``http.client`` on a keep-alive connection; a gRPC client is ``grpcio`` alone,
sending a ``PredictRequest`` serialized once by the parent as raw bytes (no serializer, so no
protobuf and no TensorFlow in the client process).
"""

from __future__ import annotations

import http.client
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "GRPC_PREDICT_METHOD",
    "MODEL_NAME",
    "PREDICT_PATH",
    "TIMEOUT",
    "GrpcClient",
    "Rate",
    "RestClient",
    "Transport",
    "p50_p99_ms",
    "post",
    "server_rate",
    "threaded_rate",
]

MODEL_NAME = "fashion_model"
PREDICT_PATH = f"/v1/models/{MODEL_NAME}:predict"
GRPC_PREDICT_METHOD = "/tensorflow.serving.PredictionService/Predict"
TIMEOUT = 30.0  # seconds any single request or start-up step may take
_HEADERS = {"Content-Type": "application/json"}
_GRPC_UNLIMITED = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]

Transport = Literal["REST", "gRPC"]


@dataclass(frozen=True)
class Rate:
    """Throughput of the stand-in under N clients, and where the machine's CPU went.

    Only answered requests count in the rate and the percentiles; failed ones are ``errors``,
    the first failure's text is kept to say why.
    """

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_ms_per_request: float
    client_cores: float
    other_cores: float
    first_error: str = ""


def post(connection: http.client.HTTPConnection, body: bytes) -> bytes:
    """One predict on a keep-alive connection; raises RuntimeError unless it answers 200."""
    connection.request("POST", PREDICT_PATH, body=body, headers=_HEADERS)
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"predict answered {response.status}: {data[:300]!r}")
    return data


class _Client(Protocol):
    failures: tuple[type[BaseException], ...]

    def send(self, body: bytes) -> bytes: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


class RestClient:
    """Predict POSTs on one keep-alive ``http.client`` connection (reopened after a failure)."""

    failures: tuple[type[BaseException], ...] = (
        RuntimeError,
        OSError,
        http.client.HTTPException,
    )

    def __init__(self, port: int) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)

    def send(self, body: bytes) -> bytes:
        """POST a JSON body; the response body, or RuntimeError unless it answers 200."""
        return post(self._connection, body)

    def reset(self) -> None:
        self._connection.close()  # http.client reconnects on the next request

    def close(self) -> None:
        self._connection.close()


class GrpcClient:
    """``PredictionService/Predict`` on one channel, request and response as raw bytes.

    ``request_serializer=None`` and ``response_deserializer=None`` pass bytes through, so the
    caller serializes the ``PredictRequest`` once and this process needs only ``grpcio``.
    """

    def __init__(self, port: int) -> None:
        import grpc

        self.failures: tuple[type[BaseException], ...] = (grpc.RpcError,)
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_GRPC_UNLIMITED)
        grpc.channel_ready_future(self._channel).result(timeout=TIMEOUT)
        self._predict = self._channel.unary_unary(
            GRPC_PREDICT_METHOD, request_serializer=None, response_deserializer=None
        )

    def send(self, body: bytes) -> bytes:
        """One Predict; the serialized ``PredictResponse``, or ``grpc.RpcError``."""
        return self._predict(body, timeout=TIMEOUT)

    def reset(self) -> None:
        """Nothing to do: the channel reconnects by itself."""

    def close(self) -> None:
        self._channel.close()


def _client(transport: Transport, port: int) -> _Client:
    return GrpcClient(port) if transport == "gRPC" else RestClient(port)


def p50_p99_ms(samples: Sequence[float]) -> tuple[float, float]:
    """Median and 99th percentile of durations in seconds, in milliseconds."""
    import numpy as np

    if not samples:
        return float("nan"), float("nan")
    p50, p99 = np.percentile(np.asarray(samples), [50, 99])
    return float(p50) * 1000, float(p99) * 1000


def _client_worker(
    transport: Transport,
    port: int,
    body: bytes,
    duration: float,
    max_requests: int,
    barrier: Any,
    results: Any,
) -> None:
    """One load-generating client process: predicts on one connection until the window closes."""
    client = _client(transport, port)
    latencies: list[float] = []
    errors: list[str] = []
    try:
        client.send(body)  # connect and warm up outside the window
        barrier.wait(TIMEOUT)
        cpu_start = time.process_time()
        stop = time.monotonic() + duration
        for _ in range(max_requests):
            start = time.monotonic()
            failure = ""
            try:
                client.send(body)
            except client.failures as exc:
                failure = _describe(exc)
                client.reset()
            end = time.monotonic()
            if end > stop:
                break
            if failure:
                errors.append(failure)
            else:
                latencies.append(end - start)
        cpu = time.process_time() - cpu_start
    finally:
        client.close()
    results.put((latencies, len(errors), cpu, errors[0] if errors else ""))


def _describe(exc: BaseException) -> str:
    """A failure in one line: a gRPC status code and details, or the exception's text."""
    code, details = getattr(exc, "code", None), getattr(exc, "details", None)
    if callable(code) and callable(details):
        return f"{code()}: {details()}"
    return f"{type(exc).__name__}: {exc}"


def _busy_seconds() -> float:
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def server_rate(
    transport: Transport, port: int, pid: int, body: bytes, clients: int, duration: float
) -> Rate:
    """Requests/s of the stand-in (process ``pid``) under ``clients`` client processes.

    ``body`` is the JSON body (REST) or the serialized ``PredictRequest`` (gRPC) sent to
    ``port``. The clients connect and warm up, then all start at a barrier and send for ``duration``
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
            args=(transport, port, body, duration, max_requests, barrier, results),
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
        first_error=next((outcome[3] for outcome in outcomes if outcome[3]), ""),
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
