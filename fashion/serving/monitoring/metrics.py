"""TF Serving's metrics, kept by prometheus-client.

Names are TensorFlow's monitoring names as TF Serving's Prometheus exporter prints them (every
character outside ``[a-zA-Z0-9_]`` becomes ``:``, ``prometheus_exporter.cc``), with their
labels, units (microseconds) and buckets (``Exponential(10, 1.8, 33)``). The exposition is
prometheus-client's: counters carry its ``_total`` suffix, a ``# HELP`` line precedes each
``# TYPE``, and bucket limits are written as floats. One registry per process, like TensorFlow's
``CollectionRegistry::Default()``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["Metrics", "process_metrics"]

prometheus_client.disable_created_metrics()  # TF Serving prints no _created samples

_LATENCY_BUCKETS = (*(float(f"{10 * 1.8**i:.6g}") for i in range(33)), float("inf"))
_EXAMPLE_BUCKETS = (*(float(2**i) for i in range(15)), float("inf"))
_TF_SERVING = ":tensorflow:serving:"
_SAVED_MODEL = ":tensorflow:cc:saved_model:"


class Metrics:
    """The stand-in's metrics in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._request_count = Counter(
            f"{_TF_SERVING}request_count",
            "The total number of requests.",
            ["model_name", "status"],
            registry=registry,
        )
        self._request_latency = Histogram(
            f"{_TF_SERVING}request_latency",
            "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
            ["model_name", "API", "entrypoint"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._runtime_latency = Histogram(
            f"{_TF_SERVING}runtime_latency",
            "Distribution of wall time (in microseconds) for Tensorflow runtime.",
            ["model_name", "API", "runtime"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._example_counts = Histogram(
            f"{_TF_SERVING}request_example_counts",
            "The number of tensorflow.Examples per request.",
            ["model"],
            buckets=_EXAMPLE_BUCKETS,
            registry=registry,
        )
        self._example_total = Counter(
            f"{_TF_SERVING}request_example_count_total",
            "The total number of tensorflow.Examples.",
            ["model"],
            registry=registry,
        )
        self._load_attempts = Counter(
            f"{_SAVED_MODEL}load_attempt_count",
            "The number of times a SavedModel was successfully loaded.",
            ["model_path", "status"],
            registry=registry,
        )
        self._load_latency = Counter(
            f"{_SAVED_MODEL}load_latency",
            "Latency in microseconds for SavedModels that were successfully loaded.",
            ["model_path"],
            registry=registry,
        )

    def count_request(self, model_name: str, status: str) -> None:
        """``RecordModelRequestCount``: one request, with its status code name."""
        self._request_count.labels(model_name, status).inc()

    def observe_request_latency(
        self, model_name: str, api: str, entrypoint: str, seconds: float
    ) -> None:
        """``RecordRequestLatency``: a successful request's wall time."""
        self._request_latency.labels(model_name, api, entrypoint).observe(seconds * 1e6)

    @contextmanager
    def runtime_latency(self, model_name: str, api: str) -> Iterator[None]:
        """``RecordRuntimeLatency`` around a run that succeeds (``runtime`` = ``TF1``)."""
        start = time.monotonic()
        yield
        self._runtime_latency.labels(model_name, api, "TF1").observe(
            (time.monotonic() - start) * 1e6
        )

    def count_examples(self, model_name: str, count: int) -> None:
        """``RecordRequestExampleCount`` (MultiInference only, as in TF Serving)."""
        self._example_counts.labels(model_name).observe(count)
        self._example_total.labels(model_name).inc(count)

    def count_load(self, model_path: str, succeeded: bool, seconds: float) -> None:
        """TensorFlow's SavedModel loader counters for one load of ``model_path``."""
        self._load_attempts.labels(model_path, "success" if succeeded else "fail").inc()
        if succeeded:
            self._load_latency.labels(model_path).inc(int(seconds * 1e6))

    def page(self) -> bytes:
        """The registry in Prometheus' text format."""
        return prometheus_client.generate_latest(self.registry)


@functools.cache
def process_metrics() -> Metrics:
    """The process's metrics (one registry, as TensorFlow's is process-wide)."""
    return Metrics()
