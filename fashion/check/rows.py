"""What the rows of both APIs share: signature differences, run failures, declared shapes.

The REST rows (:mod:`fashion.check.version_checks`) and the gRPC rows
(:mod:`fashion.check.grpc_rows`) judge the same things of different answers: whether the served
signatures are the SavedModel's, why a request built from a signature fails in-process (with
the known traps' explanations), and whether the outputs keep the dtypes and shapes the
signature declares. Imports TensorFlow (through the stand-in's runtime) when called.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from fashion.check.compare import Answer, GrpcAnswer, grpc_error_text
from fashion.check.report import CheckRow, Result
from fashion.check.request_builder import GRPC
from fashion.check.traps import explain_run_failure, same_failure

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

__all__ = [
    "first_line",
    "run_failure_row",
    "shape_problems",
    "signature_differences",
    "tensor_text",
    "timed",
]

_BAD_REQUEST = 400
_T = TypeVar("_T")


def timed(call: Callable[[], _T], repeat: int) -> tuple[list[_T], float]:
    """Call ``repeat`` times; the answers and the median time in milliseconds."""
    answers, times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        answers.append(call())
        times.append((time.perf_counter() - start) * 1000)
    return answers, statistics.median(times)


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
