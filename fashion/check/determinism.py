"""Outputs that differ between two runs of the same request: random ops, or state a run changes.

A graph with ``tf.random`` ops (a dropout left in training mode, a sampler) or a variable that
every run assigns answers the same request differently each time, in-process as on any server,
so no server could pass a comparison of those values, and a FAIL would blame the server for the
model. So each signature's first request that runs is run a second time in-process
(:func:`unstable_outputs`). The outputs whose values differ between the two runs are still
compared by structure, dtype and shape, but not by value: :func:`masked` and
:func:`masked_grpc` blank their values on both sides before the comparison. A WARN row names
them (:func:`determinism_row`). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from fashion.check.compare import (
    Answer,
    Comparison,
    GrpcAnswer,
    compare_answers,
    compare_grpc,
    compare_json,
    compare_outputs,
)
from fashion.check.report import CheckRow, Result

if TYPE_CHECKING:
    from fashion.check.reference import Reference
    from fashion.check.request_builder import SignaturePlan

__all__ = [
    "WHOLE_ANSWER",
    "compared",
    "compared_grpc",
    "determinism_row",
    "masked",
    "masked_grpc",
    "rerun_unstable",
    "unstable_outputs",
]

#: Classify and regress answers have no output aliases: their results vary as a whole.
WHOLE_ANSWER = "*"


def unstable_outputs(
    first: Answer, second: Answer, rtol: float = 0.0, atol: float = 0.0
) -> frozenset[str]:
    """The output aliases whose values differ between two in-process answers to one request,
    beyond the check's tolerances (a rounding difference that a comparison would pass is not
    instability).

    Predict answers compare by their tensors, which a run that succeeded has even when JSON
    cannot carry them; classify and regress answers by their results. Answers without either
    say nothing about the values: empty.
    """
    if first.outputs is not None and second.outputs is not None:
        return frozenset(
            alias
            for alias in first.outputs
            if alias in second.outputs
            and not compare_outputs(
                {alias: first.outputs[alias]}, {alias: second.outputs[alias]}, rtol, atol
            ).same
        )
    if first.ok and second.ok and not compare_json(first.results, second.results, rtol, atol).same:
        return frozenset({WHOLE_ANSWER})
    return frozenset()


def rerun_unstable(
    reference: Reference,
    name: str,
    plan: SignaturePlan,
    expected: Mapping[tuple[str, str], Answer],
    rtol: float,
    atol: float,
) -> frozenset[str]:
    """Run the signature's first request that ran once more, and compare the two answers
    within the check's tolerances.

    Args:
        reference: the version loaded in-process.
        name: the signature.
        plan: its requests (REST's first, then gRPC's).
        expected: (signature, check) -> the in-process answers already given.
        rtol: the check's relative tolerance.
        atol: the check's absolute tolerance.
    """
    for request in (*plan.requests, *plan.grpc_requests):
        first = expected.get((name, request.check))
        if first is None or (first.outputs is None and first.results is None):
            continue
        if request.tensors is not None:
            again = reference.answer_tensors(name, request.tensors)
        else:
            again = reference.answer(request.api, request.body)
        return unstable_outputs(first, again, rtol, atol)
    return frozenset()


def compared(
    expected: Answer, served: Answer, unstable: Collection[str], rtol: float, atol: float
) -> Comparison:
    """:func:`~fashion.check.compare.compare_answers` with the values of ``unstable`` outputs
    blanked on both sides."""
    aliases = list(expected.outputs or ())
    return compare_answers(
        masked(expected, unstable, aliases), masked(served, unstable, aliases), rtol, atol
    )


def compared_grpc(
    expected: Answer, served: GrpcAnswer, unstable: Collection[str], rtol: float, atol: float
) -> Comparison:
    """:func:`~fashion.check.compare.compare_grpc` with the values of ``unstable`` outputs
    blanked on both sides."""
    return compare_grpc(masked(expected, unstable, ()), masked_grpc(served, unstable), rtol, atol)


def masked(answer: Answer, unstable: Collection[str], aliases: Collection[str]) -> Answer:
    """``answer`` with the values of ``unstable`` outputs blanked, as REST and in-process hold them.

    Args:
        answer: an in-process or REST answer.
        unstable: from :func:`unstable_outputs`.
        aliases: every output alias of the request: with one alone, TF Serving's JSON does not
            name it (``json_tensor.cc``), so the whole ``predictions`` or ``outputs`` is it.
    """
    if not unstable:
        return answer
    return dataclasses.replace(
        answer,
        body=_masked_body(answer.body, unstable, aliases) if answer.ok else answer.body,
        outputs=_masked_tensors(answer.outputs, unstable),
        results=_skeleton(answer.results) if WHOLE_ANSWER in unstable else answer.results,
    )


def masked_grpc(answer: GrpcAnswer, unstable: Collection[str]) -> GrpcAnswer:
    """``answer`` with the values of ``unstable`` outputs blanked (see :func:`masked`)."""
    if not unstable:
        return answer
    return dataclasses.replace(
        answer,
        outputs=_masked_tensors(answer.outputs, unstable),
        results=_skeleton(answer.results) if WHOLE_ANSWER in unstable else answer.results,
    )


def determinism_row(version: int, name: str, unstable: Collection[str]) -> CheckRow:
    """The WARN row that names a signature's unstable outputs, with why and what to do."""
    if WHOLE_ANSWER in unstable:
        which = "its results differ"
    elif len(unstable) == 1:
        which = f"output {next(iter(unstable))!r} differs"
    else:
        which = f"outputs {', '.join(repr(alias) for alias in sorted(unstable))} differ"
    detail = (
        f"{which} between two in-process runs of the same request: the graph has random ops "
        "or state that each run changes, so no server can answer it the same way twice. These "
        "values are compared by dtype and shape only. To have them compared, export a serving "
        "graph without them (dropout and noise layers called with training=False, no variable "
        "assigned while serving)."
    )
    return CheckRow(name, "outputs: determinism", Result.WARN, version, detail=detail)


def _masked_body(body: Any, unstable: Collection[str], aliases: Collection[str]) -> Any:
    if WHOLE_ANSWER in unstable or not isinstance(body, dict):
        return _skeleton(body)
    single = len(aliases) == 1
    masked_body = dict(body)
    if isinstance(body.get("predictions"), list):
        masked_body["predictions"] = [
            _skeleton(row) if single else _masked_named(row, unstable)
            for row in body["predictions"]
        ]
    elif "outputs" in body:
        outputs = body["outputs"]
        masked_body["outputs"] = _skeleton(outputs) if single else _masked_named(outputs, unstable)
    return masked_body


def _masked_named(values: Any, unstable: Collection[str]) -> Any:
    if not isinstance(values, dict):
        return values
    return {key: _skeleton(v) if key in unstable else v for key, v in values.items()}


def _skeleton(value: Any) -> Any:
    """The same nesting, with every leaf replaced by a blank of its JSON type."""
    if isinstance(value, list | tuple):
        return [_skeleton(item) for item in value]
    if isinstance(value, dict):
        return {key: _skeleton(item) for key, item in value.items()}
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return 0
    if isinstance(value, str):
        return ""
    return value


def _masked_tensors(
    tensors: dict[str, np.ndarray] | None, unstable: Collection[str]
) -> dict[str, np.ndarray] | None:
    if tensors is None:
        return None
    return {
        alias: np.zeros_like(array) if alias in unstable else array
        for alias, array in tensors.items()
    }
