"""TF Serving's metrics, kept by prometheus-client.

Names are TensorFlow's monitoring names as TF Serving's Prometheus exporter prints them (every
character outside ``[a-zA-Z0-9_]`` becomes ``:``, ``prometheus_exporter.cc``), with their
labels, units (microseconds) and buckets (``Exponential(10, 1.8, 33)``). The exposition is
prometheus-client's, through a view that keeps TF Serving's sample names, so that a query or a
dashboard written for TF Serving finds the same series: prometheus-client would print a counter
as ``<name>_total``, so counters are handed to it as untyped metrics under their own names, and
bucket limits are written as TF does (``le="10"``, not ``le="10.0"``). What stays
prometheus-client's: a ``# HELP`` line before each ``# TYPE``, ``untyped`` for TF's
``counter``, and values written as floats (``2.0``). One registry per process, like TensorFlow's
``CollectionRegistry::Default()``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

__all__ = ["Metrics", "process_metrics"]

prometheus_client.disable_created_metrics()  # TF Serving prints no _created samples

_LATENCY_BUCKETS = (*(float(f"{10 * 1.8**i:.6g}") for i in range(33)), float("inf"))
_EXAMPLE_BUCKETS = (*(float(2**i) for i in range(15)), float("inf"))
_TF_SERVING = ":tensorflow:serving:"
_SAVED_MODEL = ":tensorflow:cc:saved_model:"
# TF's own names that end in "_total" (prometheus-client would otherwise treat it as its suffix).
_DECLARED_WITH_TOTAL = frozenset({f"{_TF_SERVING}request_example_count_total"})


class Metrics:
    """The stand-in's metrics in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        counter = functools.partial(Counter, registry=self.registry)
        histogram = functools.partial(Histogram, registry=self.registry)
        latency = functools.partial(histogram, buckets=_LATENCY_BUCKETS)
        self._request_count = counter(
            f"{_TF_SERVING}request_count", "The total number of requests.", ["model_name", "status"]
        )
        self._request_latency = latency(
            f"{_TF_SERVING}request_latency",
            "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
            ["model_name", "API", "entrypoint"],
        )
        self._runtime_latency = latency(
            f"{_TF_SERVING}runtime_latency",
            "Distribution of wall time (in microseconds) for Tensorflow runtime.",
            ["model_name", "API", "runtime"],
        )
        self._example_counts = histogram(
            f"{_TF_SERVING}request_example_counts",
            "The number of tensorflow.Examples per request.",
            ["model"],
            buckets=_EXAMPLE_BUCKETS,
        )
        self._example_total = counter(
            f"{_TF_SERVING}request_example_count_total",
            "The total number of tensorflow.Examples.",
            ["model"],
        )
        self._load_attempts = counter(
            f"{_SAVED_MODEL}load_attempt_count",
            "The number of times a SavedModel was successfully loaded.",
            ["model_path", "status"],
        )
        self._load_latency = counter(
            f"{_SAVED_MODEL}load_latency",
            "Latency in microseconds for SavedModels that were successfully loaded.",
            ["model_path"],
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
        """The registry in Prometheus' text format, under TF Serving's sample names."""
        return prometheus_client.generate_latest(_TFServingNames(self.registry))


class _TFServingNames(Collector):
    """The registry's metrics as TF Serving's exporter names them (``prometheus_exporter.cc``).

    A counter's samples keep the metric's own name (prometheus-client's ``<name>_total`` is
    what it appends; a TF name that ends in ``_total`` keeps it), and histogram bucket limits
    are printed with six significant digits, as ``absl::StrCat(double)`` prints them.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            if family.type == "counter":
                yield _untyped(family)
            elif family.type == "histogram":
                yield _tf_bucket_limits(family)
            else:
                yield family


def _untyped(counter: Metric) -> Metric:
    # prometheus-client strips a declared "_total" from the family name and appends "_total" to
    # every sample's; the name the counter was declared with is TF's.
    name = _declared_name(counter.name)
    metric = Metric(name, counter.documentation, "unknown")
    metric.samples = [
        Sample(name, sample.labels, sample.value)
        for sample in counter.samples
        if sample.name == f"{counter.name}_total"
    ]
    return metric


def _declared_name(family_name: str) -> str:
    total = f"{family_name}_total"
    return total if total in _DECLARED_WITH_TOTAL else family_name


def _tf_bucket_limits(histogram: Metric) -> Metric:
    metric = Metric(histogram.name, histogram.documentation, histogram.type)
    for sample in histogram.samples:
        limit = sample.labels.get("le")
        if limit is not None and limit != "+Inf":
            sample = sample._replace(labels={**sample.labels, "le": f"{float(limit):.6g}"})
        metric.samples.append(sample)
    return metric


@functools.cache
def process_metrics() -> Metrics:
    """The process's metrics (one registry, as TensorFlow's is process-wide)."""
    return Metrics()
