"""``Servable.run`` through a session callable answers exactly as through ``Session.run``.

Runs whose feeds already have the placeholders' dtypes and shapes skip ``Session.run``'s Python
bookkeeping; every other run still goes through it. Either way the outputs and the errors must
be the same, so each case here runs twice - as is, and with the callable road closed - and the
two outcomes are compared.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf
from savedmodel_factory import (
    write_affine_model,
    write_dtypes_model,
    write_edge_signatures_model,
    write_two_tensor_model,
    write_uninitialized_variable_model,
)

from fashion.serving.servable import Servable
from fashion.serving.status import ServingStatusError


@pytest.fixture(scope="module")
def servables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Servable]]:
    root = tmp_path_factory.mktemp("callable_models")
    writers = {
        "affine": lambda path: write_affine_model(path, 3.0),
        "dtypes": write_dtypes_model,
        "edges": write_edge_signatures_model,
        "two": write_two_tensor_model,
        "uninitialized": write_uninitialized_variable_model,
    }
    loaded = {name: Servable.load(str(write(root / name))) for name, write in writers.items()}
    try:
        yield loaded
    finally:
        for servable in loaded.values():
            servable.close()


def _outcome(
    servable: Servable, signature: str, feeds: Mapping[str, Any], timeout_ms: int | None = None
) -> tuple[Any, ...]:
    try:
        outputs = servable.run(signature, feeds, timeout_ms)
    except ServingStatusError as exc:
        return ("error", exc.code, exc.message)
    return (
        "ok",
        {
            alias: (type(value).__name__, np.asarray(value).dtype.str, np.shape(value),
                    np.asarray(value).tolist())
            for alias, value in outputs.items()
        },
    )  # fmt: skip


def _both_roads(
    servable: Servable, signature: str, feeds: Mapping[str, Any], timeout_ms: int | None = None
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    fast = _outcome(servable, signature, feeds, timeout_ms)
    with mock.patch.object(Servable, "_callable", return_value=None):
        slow = _outcome(servable, signature, feeds, timeout_ms)
    return fast, slow


_DTYPE_FEEDS: dict[str, np.ndarray] = {
    "f": np.array([1.5, -2.0], dtype=np.float32),
    "d": np.array([[0.1]], dtype=np.float64),
    "i32": np.array([7, -7], dtype=np.int32),
    "i64": np.array(2**40, dtype=np.int64),
    "u32": np.array([4_000_000_000], dtype=np.uint32),
    "u64": np.array([2**63], dtype=np.uint64),
    "b": np.array([True, False]),
    "s": np.array([b"a", b"\xff"], dtype=object),
}


def test_matching_numeric_feeds_skip_session_run_and_answer_the_same(servables):
    feeds = {"a": np.array([[1.5], [2.5]], dtype=np.float32), "b": np.array([7], dtype=np.int32)}
    with mock.patch.object(tf.compat.v1.Session, "run", side_effect=AssertionError("used")):
        fast = _outcome(servables["two"], "serving_default", feeds, 5000)
    with mock.patch.object(Servable, "_callable", return_value=None):
        slow = _outcome(servables["two"], "serving_default", feeds, 5000)
    assert fast[0] == "ok"
    assert fast == slow


def test_every_dtype_and_a_string_input_give_the_same_outputs(servables):
    fast, slow = _both_roads(servables["dtypes"], "serving_default", _DTYPE_FEEDS, 5000)
    assert fast[0] == "ok"
    assert fast == slow


@pytest.mark.parametrize(
    "feeds",
    [
        {"x": np.array([1.0, 2.0], dtype=np.float32)},
        {"x": np.array([1.0, 2.0], dtype=np.float64)},  # Session.run converts it
        {"x": [1.0, 2.0]},
        {"x": np.array([[1.0]], dtype=np.float32)},  # rank 2 for a [None] placeholder
        {"x": np.array(["a"], dtype=object)},
    ],
)
def test_feeds_of_any_kind_answer_as_session_run_does(servables, feeds):
    fast, slow = _both_roads(servables["affine"], "serving_default", feeds, 5000)
    assert fast == slow


@pytest.mark.parametrize(
    ("signature", "feeds"),
    [
        ("serving_default", {}),
        ("no_outputs", {"x": np.array([1.0], dtype=np.float32)}),
        ("scalar_output", {"x": np.array([1.0, 2.5], dtype=np.float32)}),
        ("uneven_outputs", {"x": np.array([1.0], dtype=np.float32)}),
        ("half_input", {"h": np.array([1.5], dtype=np.float16)}),
        ("empty_output", {"x": np.array([1.0], dtype=np.float32)}),
    ],
)
def test_edge_signatures_answer_as_session_run_does(servables, signature, feeds):
    fast, slow = _both_roads(servables["edges"], signature, feeds)
    assert fast == slow


def test_a_runtime_error_keeps_tensorflows_code_and_text(servables):
    feeds = {"x": np.array([1.0], dtype=np.float32)}
    fast, slow = _both_roads(servables["uninitialized"], "serving_default", feeds, 5000)
    assert fast[0] == "error"
    assert fast == slow


def test_deadlines_given_per_run_are_each_applied(servables):
    feeds = {"x": np.array([1.0], dtype=np.float32)}
    servable = servables["affine"]
    for timeout_ms in (None, 0, 100, 5000, 100):
        fast, slow = _both_roads(servable, "serving_default", feeds, timeout_ms)
        assert fast == slow == ("ok", {"y": ("ndarray", "<f4", (1,), [5.0])})
