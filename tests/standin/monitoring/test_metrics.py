"""TF Serving's metrics, as the stand-in records them and prints them for Prometheus.

Names, kinds, labels and units are TF Serving's (``servables/tensorflow/util.cc``; notes 7.3)
and TensorFlow's SavedModel loader's (``cc/saved_model/loader.cc``), printed as TF Serving's
exporter names them (``util/prometheus_exporter.cc``: every character outside ``[a-zA-Z0-9_]``
becomes ``:``). Latency samplers use ``Buckets::Exponential(10, 1.8, 33)`` microseconds, the
example counter ``Exponential(1, 2, 15)``. The page is read with prometheus-client's text parser.
"""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from fashion.serving.monitoring.metrics import Metrics, process_metrics


def exposed(tensorflow_name: str) -> str:
    """The name TF Serving's exporter prints for a TensorFlow monitoring name."""
    return re.sub(r"[^a-zA-Z0-9_]", ":", tensorflow_name)


REQUEST_COUNT = exposed("/tensorflow/serving/request_count")
REQUEST_LATENCY = exposed("/tensorflow/serving/request_latency")
RUNTIME_LATENCY = exposed("/tensorflow/serving/runtime_latency")
EXAMPLE_COUNTS = exposed("/tensorflow/serving/request_example_counts")
EXAMPLE_TOTAL = exposed("/tensorflow/serving/request_example_count_total")
LOAD_ATTEMPTS = exposed("/tensorflow/cc/saved_model/load_attempt_count")
LOAD_LATENCY = exposed("/tensorflow/cc/saved_model/load_latency")


def _latency_limits() -> list[float]:
    """``Exponential(10, 1.8, 33)`` as TF prints it (repeated x1.8, six significant digits)."""
    limits, limit = [], 10.0
    for _ in range(33):
        limits.append(float(f"{limit:.6g}"))
        limit *= 1.8
    return [*limits, float("inf")]


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def _families(metrics: Metrics) -> dict[str, list[Sample]]:
    """Samples by family name."""
    page = metrics.page().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(page)}


def _types(metrics: Metrics) -> dict[str, str]:
    page = metrics.page().decode()
    return {family.name: family.type for family in text_string_to_metric_families(page)}


def _value(samples: list[Sample], suffix: str = "", **labels: str) -> float | None:
    found = [s.value for s in samples if s.name.endswith(suffix) and s.labels == labels]
    assert len(found) <= 1, found
    return found[0] if found else None


def test_every_metric_is_declared_under_tf_servings_name_and_kind(metrics: Metrics) -> None:
    assert _types(metrics) == {
        # TF's counters, untyped: prometheus-client would print a counter as <name>_total.
        REQUEST_COUNT: "unknown",
        REQUEST_LATENCY: "histogram",
        RUNTIME_LATENCY: "histogram",
        EXAMPLE_COUNTS: "histogram",
        EXAMPLE_TOTAL: "unknown",
        LOAD_ATTEMPTS: "unknown",
        LOAD_LATENCY: "unknown",
    }


def test_nothing_is_sampled_before_anything_is_recorded(metrics: Metrics) -> None:
    """A metric without cells prints its ``# TYPE`` line only (notes 7.2)."""
    assert all(samples == [] for samples in _families(metrics).values())


def test_a_request_moves_its_model_and_status_series_by_one(metrics: Metrics) -> None:
    metrics.count_request("half", "OK")
    metrics.count_request("half", "OK")
    metrics.count_request("half", "NOT_FOUND")
    metrics.count_request("other", "OK")
    samples = _families(metrics)[REQUEST_COUNT]
    assert {frozenset(s.labels) for s in samples} == {frozenset({"model_name", "status"})}
    assert _value(samples, model_name="half", status="OK") == 2
    assert _value(samples, model_name="half", status="NOT_FOUND") == 1
    assert _value(samples, model_name="other", status="OK") == 1
    assert _value(samples, model_name="other", status="NOT_FOUND") is None


def test_request_latency_is_in_microseconds_with_tf_servings_labels(metrics: Metrics) -> None:
    metrics.observe_request_latency("half", "Predict", "GRPC", 0.0015)
    samples = _families(metrics)[REQUEST_LATENCY]
    labels = {"model_name": "half", "API": "Predict", "entrypoint": "GRPC"}
    assert _value(samples, "_count", **labels) == 1
    assert _value(samples, "_sum", **labels) == pytest.approx(1500)
    # 1500 µs lies between the limits 1102 and 1983.59.
    assert _value(samples, "_bucket", **labels, le="1102") == 0
    assert _value(samples, "_bucket", **labels, le="1983.59") == 1


def test_latency_buckets_are_exponential_10_by_1_8_times_33(metrics: Metrics) -> None:
    metrics.observe_request_latency("half", "predict", "REST", 1.0)  # 1e6 µs: above 708235
    metrics.observe_request_latency("half", "predict", "REST", 2e4)  # above 1.47476e+09
    samples = _families(metrics)[REQUEST_LATENCY]
    buckets = [s for s in samples if s.name.endswith("_bucket")]
    assert [float(s.labels["le"]) for s in buckets] == _latency_limits()
    assert [s.value for s in buckets] == [0.0] * 20 + [1.0] * 13 + [2.0]


def test_runtime_latency_is_recorded_for_a_run_that_succeeds(metrics: Metrics) -> None:
    with metrics.runtime_latency("half", "Classify"):
        pass
    samples = _families(metrics)[RUNTIME_LATENCY]
    labels = {"model_name": "half", "API": "Classify", "runtime": "TF1"}
    assert _value(samples, "_count", **labels) == 1
    assert [float(s.labels["le"]) for s in samples if s.name.endswith("_bucket")] == (
        _latency_limits()
    )


def test_runtime_latency_is_not_recorded_for_a_run_that_fails(metrics: Metrics) -> None:
    with pytest.raises(KeyError), metrics.runtime_latency("half", "Predict"):
        raise KeyError("the run failed")
    assert _families(metrics)[RUNTIME_LATENCY] == []


def test_examples_are_counted_per_request_and_in_total(metrics: Metrics) -> None:
    metrics.count_examples("half", 3)
    metrics.count_examples("half", 1)
    families = _families(metrics)
    counts, total = families[EXAMPLE_COUNTS], families[EXAMPLE_TOTAL]
    assert _value(counts, "_count", model="half") == 2
    assert _value(counts, "_sum", model="half") == 4
    limits = [float(s.labels["le"]) for s in counts if s.name.endswith("_bucket")]
    assert limits == [*(float(2**i) for i in range(15)), float("inf")]
    assert _value(total, model="half") == 4


def test_loads_are_counted_by_model_path_and_outcome(metrics: Metrics) -> None:
    metrics.count_load("/models/half/1", True, 0.25)
    metrics.count_load("/models/half/2", False, 0.5)
    metrics.count_load("/models/half/2", False, 0.5)
    families = _families(metrics)
    attempts, latency = families[LOAD_ATTEMPTS], families[LOAD_LATENCY]
    assert _value(attempts, model_path="/models/half/1", status="success") == 1
    assert _value(attempts, model_path="/models/half/2", status="fail") == 2
    assert _value(attempts, model_path="/models/half/2", status="success") is None
    # Microseconds, for successful loads only.
    assert _value(latency, model_path="/models/half/1") == 250_000
    assert _value(latency, model_path="/models/half/2") is None


def test_the_process_has_one_registry() -> None:
    assert process_metrics() is process_metrics()


def test_samples_carry_tf_servings_names_and_bucket_limits(metrics: Metrics) -> None:
    """TF Serving's exporter (``util/prometheus_exporter.cc``) prints a counter's samples under
    the metric's own name (``:tensorflow:serving:request_count{...} 2``, no ``_total``) and
    bucket limits as ``%g`` (``le="10"``, ``le="1.27482e+06"``), so queries and dashboards
    written for TF Serving name these series."""
    metrics.count_request("half", "OK")
    metrics.count_request("half", "OK")
    metrics.count_examples("half", 3)
    metrics.observe_request_latency("half", "Predict", "GRPC", 0.001)
    lines = metrics.page().decode().splitlines()
    samples = [line.split(" ")[0] for line in lines if not line.startswith("#")]
    assert f'{REQUEST_COUNT}{{model_name="half",status="OK"}}' in samples
    assert f'{EXAMPLE_TOTAL}{{model="half"}}' in samples
    assert not any(name.endswith("_total") for name in samples if name.startswith(REQUEST_COUNT))
    limits = [re.search(r'le="([^"]+)"', name)[1] for name in samples if "le=" in name]
    assert {"10", "1102", "1.27482e+06", "+Inf"} <= set(limits)
    assert not any(limit.endswith(".0") for limit in limits)


def test_the_text_around_the_samples_is_prometheus_clients(metrics: Metrics) -> None:
    """A deviation: TF Serving prints ``# TYPE`` lines only, ``counter`` for its counters and
    integer values; prometheus-client adds ``# HELP`` lines, and the stand-in's counters are
    ``untyped`` (the only way prometheus-client prints them without ``_total``), with float
    values. A scrape reads both the same way."""
    metrics.count_request("half", "OK")
    lines = metrics.page().decode().splitlines()
    assert f"# HELP {REQUEST_COUNT} The total number of requests." in lines
    assert f"# TYPE {REQUEST_COUNT} untyped" in lines
    assert f'{REQUEST_COUNT}{{model_name="half",status="OK"}} 1.0' in lines
