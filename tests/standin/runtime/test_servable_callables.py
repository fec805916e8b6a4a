"""``Servable.run`` runs the graph the way TF Serving's C++ ``Session::Run`` does.

The C++ session checks nothing about a fed value before the graph runs: a placeholder's declared
shape is not compared with it, and any tensor can be fed. Only a kernel that consumes the value can
fail. Python's ``Session.run`` adds checks of its own, so it must never be the road: every case
below runs with ``Session.run`` made to fail the test if it is called.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf

from fashion.serving.runtime.servable import Servable
from fashion.serving.runtime.session_callables import MAX_CALLABLES
from fashion.serving.status import Code, ServingStatusError
from tests.support.savedmodels import (
    write_affine_model,
    write_dtypes_model,
    write_edge_signatures_model,
    write_matmul_model,
    write_two_tensor_model,
    write_uninitialized_variable_model,
)


@pytest.fixture(scope="module")
def servables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Servable]]:
    root = tmp_path_factory.mktemp("callable_models")
    writers = {
        "affine": lambda path: write_affine_model(path, 3.0),
        "dtypes": write_dtypes_model,
        "edges": write_edge_signatures_model,
        "matmul": write_matmul_model,
        "two": write_two_tensor_model,
        "uninitialized": write_uninitialized_variable_model,
    }
    loaded = {name: Servable.load(str(write(root / name))) for name, write in writers.items()}
    try:
        yield loaded
    finally:
        for servable in loaded.values():
            servable.close()


@pytest.fixture(autouse=True)
def _session_run_is_never_the_road() -> Iterator[None]:
    with mock.patch.object(
        tf.compat.v1.Session, "run", side_effect=AssertionError("Session.run was used")
    ):
        yield


def _outcome(
    servable: Servable, signature: str, feeds: Mapping[str, Any], timeout_ms: int | None = 5000
) -> tuple[Any, ...]:
    try:
        outputs = servable.run(signature, feeds, timeout_ms)
    except ServingStatusError as exc:
        return ("error", exc.code, exc.message)
    return ("ok", {alias: np.asarray(value).tolist() for alias, value in outputs.items()})


def test_a_value_of_another_shape_than_the_placeholder_declares_is_run(servables):
    # x is declared [None]; the C++ session feeds a [2, 1] value all the same.
    feeds = {"x": np.array([[1.0], [2.0]], dtype=np.float32)}
    assert _outcome(servables["affine"], "serving_default", feeds) == (
        "ok",
        {"y": [[5.0], [8.0]]},
    )


def test_a_shape_a_kernel_cannot_take_fails_inside_the_graph_with_the_kernels_error(servables):
    # p is declared [None, 2] and multiplied by a [2, 1] matrix: only MatMul can refuse [3].
    outcome = _outcome(servables["matmul"], "serving_default", {"p": np.ones(3, np.float32)})
    assert outcome[:2] == ("error", Code.INVALID_ARGUMENT)
    assert "Cannot feed value" not in outcome[2]  # Python's wording, not the session's
    assert "{{node q}}" in outcome[2]  # the kernel that failed names itself


def test_a_right_shape_through_the_same_kernel_answers(servables):
    outcome = _outcome(servables["matmul"], "serving_default", {"p": np.ones((3, 2), np.float32)})
    assert outcome == ("ok", {"q": [[2.0], [2.0], [2.0]]})


def test_every_dtype_and_a_string_input_run_and_echo_their_values(servables):
    feeds = {
        "f": np.array([1.5, -2.0], dtype=np.float32),
        "d": np.array([[0.1]], dtype=np.float64),
        "i32": np.array([7, -7], dtype=np.int32),
        "i64": np.array(2**40, dtype=np.int64),
        "u32": np.array([4_000_000_000], dtype=np.uint32),
        "u64": np.array([2**63], dtype=np.uint64),
        "b": np.array([True, False]),
        "s": np.array([b"a", b"\xff"], dtype=object),
    }
    outputs = servables["dtypes"].run("serving_default", feeds)
    for name, value in feeds.items():
        assert outputs[name].dtype == (np.dtype(object) if name == "s" else value.dtype), name
        assert outputs[name].tolist() == value.tolist(), name
    assert outputs["s_bytes"].tolist() == [b"a", b"\xff"]


def test_a_value_of_another_dtype_than_the_tensor_is_refused_as_session_run_refuses_it(servables):
    # DirectSession::Run (FunctionCallFrame::SetArgs) checks each feed's dtype, args in name order.
    outcome = _outcome(
        servables["affine"], "serving_default", {"x": np.array([1.0], dtype=np.float64)}
    )
    assert outcome == (
        "error",
        Code.INVALID_ARGUMENT,
        "Expects arg[0] to be float but double is provided",
    )
    two = _outcome(
        servables["two"],
        "serving_default",
        {"a": np.array([1.0], dtype=np.float32), "b": np.array([1.0], dtype=np.float32)},
    )
    assert two == (
        "error",
        Code.INVALID_ARGUMENT,
        "Expects arg[1] to be int32 but float is provided",
    )


def test_a_signature_without_outputs_gets_the_sessions_nothing_to_fetch_error(servables):
    # TF Serving's RunPredict passes an empty fetch list to Session::Run, which refuses it in
    # TensorFlow's subgraph.cc before anything runs.
    feeds = {"x": np.array([1.0], dtype=np.float32)}
    assert _outcome(servables["edges"], "no_outputs", feeds) == (
        "error",
        Code.INVALID_ARGUMENT,
        "Must specify at least one target to fetch or execute.",
    )


def test_a_signature_without_inputs_runs(servables):
    assert _outcome(servables["edges"], "serving_default", {}) == ("ok", {"c": [1.0]})


@pytest.mark.parametrize(
    ("signature", "feeds", "expected"),
    [
        ("scalar_output", {"x": np.array([1.0, 2.5], dtype=np.float32)}, {"total": 3.5}),
        ("uneven_outputs", {"x": np.array([1.0], np.float32)}, {"y": [1.0], "z": [1.0, 1.0]}),
        ("half_input", {"h": np.array([1.5], dtype=np.float16)}, {"y": [1.5]}),
        ("empty_output", {"x": np.array([1.0], dtype=np.float32)}, {"y": []}),
    ],
)
def test_edge_signatures_answer_what_the_graph_computes(servables, signature, feeds, expected):
    assert _outcome(servables["edges"], signature, feeds) == ("ok", expected)


def test_two_inputs_of_two_dtypes_are_fed_together(servables):
    feeds = {"a": np.array([[1.5], [2.5]], dtype=np.float32), "b": np.array([7], dtype=np.int32)}
    assert _outcome(servables["two"], "serving_default", feeds) == (
        "ok",
        {"a": [[1.5], [2.5]], "b": [7]},
    )


def test_a_runtime_error_keeps_tensorflows_code_and_text(servables):
    outcome = _outcome(
        servables["uninitialized"], "serving_default", {"x": np.array([1.0], dtype=np.float32)}
    )
    assert outcome[:2] == ("error", Code.FAILED_PRECONDITION)
    assert "Could not find variable dense/bias" in outcome[2]
    assert not outcome[2].startswith("Graph execution error")


def test_deadlines_given_per_run_are_each_applied(servables):
    feeds = {"x": np.array([1.0], dtype=np.float32)}
    for timeout_ms in (None, 0, 100, 5000, 100):
        assert _outcome(servables["affine"], "serving_default", feeds, timeout_ms) == (
            "ok",
            {"y": [5.0]},
        )


def test_more_distinct_runs_than_callables_kept_still_answer(servables):
    feeds = {"x": np.array([2.0], dtype=np.float32)}
    deadlines = range(1000, 1000 + 2 * MAX_CALLABLES)
    outcomes = [_outcome(servables["affine"], "serving_default", feeds, ms) for ms in deadlines]
    assert outcomes == [("ok", {"y": [8.0]})] * len(deadlines)
