"""Outputs that differ run to run are compared by structure, dtype and shape, never by value.

In-process answers and served ones, as ``fashion check`` holds them; no server and no model (the
verdict on a served model with random and stateful outputs is in ``test_verdicts``).
"""

from __future__ import annotations

import numpy as np
import pytest

from fashion.check.compare import Answer, GrpcAnswer, compare_answers, compare_grpc
from fashion.check.determinism import (
    WHOLE_ANSWER,
    determinism_row,
    masked,
    masked_grpc,
    unstable_outputs,
)


def _predicted(**outputs: list[float]) -> Answer:
    return Answer(outputs={alias: np.asarray(v, np.float32) for alias, v in outputs.items()})


def test_the_outputs_whose_values_differ_between_two_runs_are_unstable() -> None:
    first = _predicted(noisy=[0.25, 0.5], doubled=[2.0, float("nan")])
    second = _predicted(noisy=[0.75, 0.5], doubled=[2.0, float("nan")])
    assert unstable_outputs(first, second) == {"noisy"}  # NaN equals NaN: doubled is stable
    assert unstable_outputs(first, first) == frozenset()


def test_a_difference_within_the_checks_tolerance_is_not_instability() -> None:
    first = _predicted(total=[100.0])
    rounded = _predicted(total=[100.00001])
    assert unstable_outputs(first, rounded) == {"total"}
    assert unstable_outputs(first, rounded, rtol=1e-6) == frozenset()
    assert unstable_outputs(first, rounded, atol=1e-3) == frozenset()


def test_classify_results_that_differ_are_unstable_as_a_whole_and_errors_say_nothing() -> None:
    first = Answer(body={}, results=[[["a", 0.25]]])
    second = Answer(body={}, results=[[["a", 0.5]]])
    failed = Answer(status=400, error="bad", stage="run")
    assert unstable_outputs(first, second) == {WHOLE_ANSWER}
    assert unstable_outputs(first, failed) == frozenset()


_ALIASES = ["doubled", "noisy"]


@pytest.mark.parametrize(
    ("served", "same"),
    [
        ({"predictions": [{"noisy": [9.0, 9.0], "doubled": [2.0, 4.0]}]}, True),
        ({"predictions": [{"noisy": [0.5, 0.5], "doubled": [2.0, 4.5]}]}, False),
        ({"predictions": [{"noisy": [0.5], "doubled": [2.0, 4.0]}]}, False),
        ({"predictions": [{"noisy": ["0.5", 0.5], "doubled": [2.0, 4.0]}]}, False),
        ({"predictions": [{"doubled": [2.0, 4.0]}]}, False),
    ],
    ids=["other-noise", "a-stable-value-differs", "shorter", "a-string", "missing"],
)
def test_rest_bodies_blank_only_the_unstable_outputs_values(served: dict, same: bool) -> None:
    expected = Answer(body={"predictions": [{"noisy": [0.5, 0.5], "doubled": [2.0, 4.0]}]})
    comparison = compare_answers(
        masked(expected, {"noisy"}, _ALIASES),
        masked(Answer(body=served), {"noisy"}, _ALIASES),
        0,
        0,
    )
    assert comparison.same is same, comparison.difference


def test_a_lone_output_is_unnamed_in_json_and_blanked_whole_keeping_its_shape() -> None:
    expected = Answer(body={"outputs": [[0.5, 0.25]]})

    def compared(served: object) -> bool:
        return compare_answers(
            masked(expected, {"noisy"}, ["noisy"]),
            masked(Answer(body={"outputs": served}), {"noisy"}, ["noisy"]),
            0,
            0,
        ).same

    assert compared([[0.75, 0.125]])
    assert not compared([[0.75, 0.125, 1.0]])


def test_grpc_tensors_keep_their_dtype_and_shape_checks_when_blanked() -> None:
    expected = _predicted(noisy=[0.25, 0.5])

    def compared(value: np.ndarray) -> bool:
        served = GrpcAnswer(outputs={"noisy": value})
        return compare_grpc(
            masked(expected, {"noisy"}, ()), masked_grpc(served, {"noisy"}), 0, 0
        ).same

    assert compared(np.array([9.0, -9.0], np.float32))
    assert not compared(np.array([9.0, -9.0], np.float64))
    assert not compared(np.array([9.0], np.float32))


def test_the_warning_names_the_outputs_in_order_or_the_results() -> None:
    assert determinism_row(1, "s", {"noisy", "calls"}).detail.startswith(
        "outputs 'calls', 'noisy' differ between two in-process runs"
    )
    assert determinism_row(1, "s", {"noisy"}).detail.startswith("output 'noisy' differs")
    row = determinism_row(2, "classify", {WHOLE_ANSWER})
    assert (row.check, row.result.value, row.version) == ("outputs: determinism", "WARN", 2)
    assert row.detail.startswith("its results differ")
