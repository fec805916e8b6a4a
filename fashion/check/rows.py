"""What the rows of both APIs share: signature differences, run failures, declared shapes.

The REST rows (:mod:`fashion.check.version_checks`) and the gRPC rows
(:mod:`fashion.check.grpc_rows`) judge the same things of different answers: whether the served
signatures are the SavedModel's, why a request built from a signature fails in-process (with
the known traps' explanations), and whether the outputs keep the dtypes and shapes the
signature declares. They also walk a signature's requests the same way (:func:`request_rows`)
and end a golden case's row the same way (:func:`golden_row`), so the order of the rows, where
they stop and what a verdict rests on cannot drift apart between the two APIs. Imports
TensorFlow (through the stand-in's runtime) when called.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from fashion.check.compare import Answer, Comparison, GrpcAnswer, compare_json, grpc_error_text
from fashion.check.golden import GoldenCase
from fashion.check.report import CheckRow, Result
from fashion.check.request_builder import GRPC, BuiltRequest
from fashion.check.traps import explain_run_failure, same_failure

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

    from fashion.check.version_checks import PreparedVersion

__all__ = [
    "first_line",
    "golden_row",
    "judged",
    "request_rows",
    "run_failure_row",
    "shape_problems",
    "signature_differences",
    "tensor_text",
    "timed",
]

_BAD_REQUEST = 400
_T = TypeVar("_T")
_Served = TypeVar("_Served", Answer, GrpcAnswer)


def timed(call: Callable[[], _T], repeat: int) -> tuple[list[_T], float]:
    """Call ``repeat`` times; the answers and the median time in milliseconds."""
    answers, times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        answers.append(call())
        times.append((time.perf_counter() - start) * 1000)
    return answers, statistics.median(times)


def judged(comparisons: Sequence[Comparison]) -> tuple[float | None, Comparison | None]:
    """What a request's repeated answers add up to, over either API: the largest absolute
    difference any of them showed (None: no numbers were compared), and the first that is not
    the in-process answer (None: all are)."""
    diffs = [c.max_abs_diff for c in comparisons if c.max_abs_diff is not None]
    return max(diffs) if diffs else None, next((c for c in comparisons if not c.same), None)


def first_line(text: str | None, limit: int = 300) -> str:
    """The first line of a text, cut at ``limit`` characters."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def tensor_text(info: Any) -> str:
    """A TensorInfo as ``float [-1, 3] (x:0)``."""
    from fashion.serving.runtime.signature_info import dtype_name

    shape = info.tensor_shape
    dims = "unknown rank" if shape.unknown_rank else [int(d.size) for d in shape.dim]
    return f"{dtype_name(info.dtype)} {dims} ({info.name})"


def signature_differences(own: Any, served: Any) -> list[str]:
    """How a served signature map differs from the SavedModel's (nothing: ``[]``)."""
    found = []
    for name in sorted(set(own) - set(served)):
        found.append(f"signature {name!r} is not served")
    for name in sorted(set(served) - set(own)):
        found.append(f"signature {name!r} is served but not in the SavedModel")
    for name in sorted(set(own) & set(served)):
        mine, theirs = own[name], served[name]
        if mine.method_name != theirs.method_name:
            found.append(
                f"{name}: method {theirs.method_name!r} served, {mine.method_name!r} saved"
            )
        for kind in ("inputs", "outputs"):
            mine_map, their_map = getattr(mine, kind), getattr(theirs, kind)
            for alias in sorted(set(mine_map) | set(their_map)):
                if alias not in their_map or alias not in mine_map:
                    where = "served only" if alias not in mine_map else "not served"
                    found.append(f"{name}: {kind[:-1]} {alias!r} {where}")
                elif mine_map[alias] != their_map[alias]:
                    served_as, saved_as = (
                        tensor_text(their_map[alias]),
                        tensor_text(mine_map[alias]),
                    )
                    found.append(
                        f"{name}: {kind[:-1]} {alias!r} served as {served_as}, saved as {saved_as}"
                    )
    return found


def _server_said(expected: Answer, served: Answer | GrpcAnswer, transport: str) -> str:
    if served.ok:
        return "The server answered it, though."
    if transport == GRPC:
        assert isinstance(served, GrpcAnswer)
        mine = grpc_error_text(expected.error or "")
        if served.code == expected.code and same_failure(mine, served.error or ""):
            return f"The server answers the same {served.code} over gRPC."
        return f"The server answered {served.code} over gRPC: {first_line(served.error)}"
    if served.status == expected.status and same_failure(expected.error or "", served.error or ""):
        return f"The server answers the same {served.status}."
    return f"The server answered {served.status}: {first_line(served.error)}"


def run_failure_row(
    meta_graph: meta_graph_pb2.MetaGraphDef,
    version: int,
    name: str,
    check: str,
    expected: Answer,
    served: Answer | GrpcAnswer,
    p50: float,
    transport: str,
) -> CheckRow:
    """The FAIL row of a request built from the signature that fails in-process when run.

    A known trap names the row (``Keras 3 export trap``, ``Keras 3 export trap grpc``) and
    comes first with its fix; otherwise the failure comes first, with a general hint.
    """
    signature = meta_graph.signature_def[name]
    inputs = ", ".join(
        f"{alias}: {tensor_text(signature.inputs[alias])}" for alias in sorted(signature.inputs)
    )
    status = expected.code if transport == GRPC else expected.status
    failure = (
        f"In-process, with the session loader TF Serving uses, {check} built from the "
        f"signature's declared inputs ({inputs}) fails: {status} "
        f"{first_line(expected.error)} {_server_said(expected, served, transport)}"
    )
    explanation = explain_run_failure(expected.error or "", meta_graph, signature)
    row_check = check
    detail = failure
    if explanation and explanation.trap:
        row_check = explanation.trap + (" grpc" if transport == GRPC else "")
        detail = f"{explanation.text}\n{failure}"
    elif explanation:
        detail = f"{failure}\n{explanation.text}"
    elif expected.status == _BAD_REQUEST:
        detail += (
            " The signature's declared inputs do not describe what the graph accepts (or the "
            "graph refuses the seeded values): fix the signature, or send values the graph "
            "accepts with --dim or --requests."
        )
    return CheckRow(
        name, row_check, Result.FAIL, version, p50_ms=p50, detail=detail, transport=transport
    )


def request_rows(
    prepared: PreparedVersion,
    name: str,
    requests: Sequence[BuiltRequest],
    transport: str,
    repeat: int,
    send: Callable[[BuiltRequest, Answer], _Served],
    row: Callable[[BuiltRequest, Answer, list[_Served], float], CheckRow],
    not_sent: Callable[[BuiltRequest, Answer], CheckRow] | None = None,
) -> list[CheckRow]:
    """The rows of one signature's requests over one API, in the order they were built.

    Each request is sent ``repeat`` times and judged against its in-process answer. The rows
    stop where the in-process runs stopped (:func:`~fashion.check.version_checks.prepare_version`
    answers no request after one that cannot run): that request gets the one row that says why
    (:func:`run_failure_row`), since every later one would fail the same way.

    Args:
        prepared: the version, with its in-process answers.
        name: the signature.
        requests: what is sent to it over this API.
        transport: ``rest`` or ``grpc``, for the row of a request that cannot run.
        repeat: how many times each request is sent (the row's p50 is their median).
        send: sends a request (given its in-process answer) and returns the server's answer.
        row: the row of a request, given its in-process answer, the server's answers and p50.
        not_sent: the row of a request whose body does not decode in-process, which is then not
            sent (gRPC: there are no decoded values to send); None: it is sent like any other
            (REST: the server must refuse it the same way).
    """
    rows = []
    for request in requests:
        expected = prepared.expected.get((name, request.check))
        if expected is None:
            break  # an earlier request of this signature failed to run in-process
        if not_sent is not None and expected.stage == "decode":
            rows.append(not_sent(request, expected))
            continue
        answers, p50 = timed(
            lambda request=request, expected=expected: send(request, expected), repeat
        )
        if expected.stage == "run":
            rows.append(
                run_failure_row(
                    prepared.meta_graph, prepared.version, name, request.check, expected,
                    answers[0], p50, transport,
                )
            )  # fmt: skip
            break
        rows.append(row(request, expected, answers, p50))
    return rows


def golden_row(
    case: GoldenCase,
    transport: str,
    p50: float,
    problems: list[str],
    max_diff: float | None,
    served: tuple[Any, str] | None,
    rtol: float,
    atol: float,
) -> CheckRow:
    """The row of a golden case: what was found so far, and the answer against ``expected``.

    Args:
        case: the golden case.
        transport: ``rest`` or ``grpc``.
        p50: the request's time in milliseconds.
        problems: what is wrong so far (the in-process run, the server against in-process);
            the difference from ``expected`` is added to it.
        max_diff: the largest absolute difference from in-process (None: none compared).
        served: the server's answer as REST's JSON writes it, and "" (or None and why it
            cannot be written so, which is a problem itself); None: nothing is compared with
            ``expected`` (the case has none, or the server failed).
        rtol: relative tolerance against ``expected``.
        atol: absolute tolerance against ``expected``.
    """
    if served is not None:
        value, why = served
        if why:
            problems.append(why)
        else:
            against = compare_json(case.expected, value, rtol, atol)
            if not against.same:
                problems.append(f"the answer differs from 'expected': {against.difference}")
            if against.max_abs_diff is not None:
                max_diff = max(max_diff or 0.0, against.max_abs_diff)
    check = f"golden line {case.number}" + (" grpc" if transport == GRPC else "")
    result = Result.FAIL if problems else Result.PASS
    return CheckRow(
        case.signature_key, check, result, case.resolved_version, max_diff, p50,
        detail=" ".join(problems), transport=transport,
    )  # fmt: skip


def shape_problems(
    signature: meta_graph_pb2.SignatureDef,
    dtypes: Mapping[str, str],
    shapes: Mapping[str, Sequence[list[int]]],
    dtype_phrase: str,
    shape_phrase: str,
) -> list[str]:
    """How outputs break the signature's declared dtypes and shapes.

    Args:
        signature: the SignatureDef.
        dtypes: output alias -> the dtype produced (TensorFlow's short name, ``float``).
        shapes: output alias -> the shapes produced, each once.
        dtype_phrase: says where a dtype came from: ``the graph produces`` ...
        shape_phrase: says where the shapes came from: ``the runs produced`` ...
    """
    from fashion.serving.runtime.signature_info import dtype_name

    problems = []
    for alias in sorted(signature.outputs):
        declared = dtype_name(signature.outputs[alias].dtype)
        if dtypes.get(alias, declared) != declared:
            problems.append(
                f"output {alias!r} is declared {declared} but {dtype_phrase} {dtypes[alias]}"
            )
    for alias, found in sorted(shapes.items()):
        info = signature.outputs.get(alias)
        if info is None or not info.HasField("tensor_shape") or info.tensor_shape.unknown_rank:
            continue
        dims = [int(d.size) for d in info.tensor_shape.dim]
        wrong = [
            shape
            for shape in found
            if len(shape) != len(dims)
            or any(d >= 0 and d != a for d, a in zip(dims, shape, strict=True))
        ]
        if wrong:
            problems.append(
                f"output {alias!r} is declared {dims}, but {shape_phrase} "
                + " and ".join(str(shape) for shape in wrong)
            )
    return problems
