"""Answers, and served answers against expected ones: same JSON, numbers within a tolerance.

Numbers compare like ``numpy.isclose(served, expected, rtol, atol)`` (the expected value is the
reference; NaN equals NaN, infinities must match); strings, booleans and the structure (keys,
list lengths) must be equal. REST errors compare by HTTP status and text.

gRPC answers (:class:`GrpcAnswer`) compare with the same rule, tensor by tensor: gRPC carries
dtypes and shapes exactly, so each output's dtype and shape must be the in-process one too.
Their errors compare by status code name and text, the text as TF Serving sends it over gRPC
(:func:`grpc_error_text`: cut at 1024 bytes). Nothing here imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from google.protobuf import text_format
from google.protobuf.message import Message

if TYPE_CHECKING:
    from fashion.serving.status import ServingStatusError

__all__ = [
    "GRPC_ERROR_LIMIT",
    "Answer",
    "Comparison",
    "GrpcAnswer",
    "compare_answers",
    "compare_grpc",
    "compare_json",
    "compare_outputs",
    "grpc_error_text",
]

#: Bytes of an error text TF Serving sends over gRPC before it cuts it (``grpc_status_util.cc``).
GRPC_ERROR_LIMIT = 1024


@dataclass(frozen=True)
class Answer:
    """What one request got, from the server or in-process.

    Attributes:
        body: the decoded JSON answer, when it succeeded.
        status: the HTTP status of an error (TF Serving's mapping of the status code).
        error: the error text (TF Serving's ``{"error": ...}``).
        stage: in-process only: where an error arose, ``decode``, ``run`` or ``encode``.
        outputs: in-process predict only: the tensors the run produced, by output alias.
        code: in-process only: the error's status code name (``FAILED_PRECONDITION``), which
            gRPC carries as it is.
        inputs: in-process only: what the run was fed, decoded from the body (predict: tensors
            by input alias; classify/regress: the serialised ``tf.Example`` s). A gRPC request
            sends exactly these.
        results: in-process classify/regress only: the results before TF Serving writes them
            as JSON (classify: per example ``[label, score]`` pairs; regress: the values).
    """

    body: Any = None
    status: int | None = None
    error: str | None = None
    stage: str = ""
    outputs: dict[str, np.ndarray] | None = field(default=None, repr=False)
    code: str = ""
    inputs: Any = field(default=None, repr=False)
    results: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the request succeeded."""
        return self.error is None

    @classmethod
    def failed(cls, exc: ServingStatusError, stage: str) -> Answer:
        """An in-process error as the server would report it."""
        return cls(status=exc.http_status, error=exc.message, stage=stage, code=exc.code.name)


@dataclass(frozen=True)
class GrpcAnswer:
    """What one gRPC request got from the server.

    Attributes:
        outputs: Predict: the answer's tensors by output alias, decoded as they came.
        results: Classify/Regress: as :attr:`Answer.results`.
        model_spec: the answer's ``model_spec`` as ``(name, version, signature_name)``.
        code: the failed RPC's status code name (``NOT_FOUND``).
        status: the HTTP status REST answers for that code.
        error: the failed RPC's text.
    """

    outputs: dict[str, np.ndarray] | None = field(default=None, repr=False)
    results: Any = field(default=None, repr=False)
    model_spec: tuple[str, int, str] | None = None
    code: str = ""
    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the RPC succeeded."""
        return self.error is None


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing two answers.

    Attributes:
        same: equal structure, numbers within tolerance (or the same error).
        max_abs_diff: the largest absolute difference between paired numbers (None: none).
        difference: the first difference found, or "".
    """

    same: bool
    max_abs_diff: float | None
    difference: str = ""


def _describe(value: Any) -> str:
    text = (
        text_format.MessageToString(value, as_one_line=True)
        if isinstance(value, Message)
        else repr(value)
    )
    return text if len(text) <= 80 else text[:77] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _walk(expected: Any, served: Any, path: str, numbers: list[tuple[str, Any, Any]]) -> str:
    """Pair the numbers of two JSON values; return the first structural difference, or ""."""
    if isinstance(expected, dict) and isinstance(served, dict):
        if set(expected) != set(served):
            return (
                f"{path or 'answer'}: keys differ: expected {sorted(expected)}, served "
                f"{sorted(served)}"
            )
        for key in sorted(expected):
            found = _walk(expected[key], served[key], f"{path}.{key}" if path else key, numbers)
            if found:
                return found
        return ""
    if isinstance(expected, list) and isinstance(served, list):
        if len(expected) != len(served):
            return (
                f"{path or 'answer'}: expected {len(expected)} items, served {len(served)} "
                "(different shapes)"
            )
        for index, (one, other) in enumerate(zip(expected, served, strict=True)):
            found = _walk(one, other, f"{path}[{index}]", numbers)
            if found:
                return found
        return ""
    if _is_number(expected) and _is_number(served):
        numbers.append((path, expected, served))
        return ""
    if expected != served or type(expected) is not type(served):
        return f"{path or 'answer'}: expected {_describe(expected)}, served {_describe(served)}"
    return ""


def compare_json(expected: Any, served: Any, rtol: float, atol: float) -> Comparison:
    """Compare two decoded JSON values.

    Args:
        expected: the reference value (in-process, or a golden case's ``expected``).
        served: what the server answered.
        rtol: relative tolerance, applied to ``|expected|``.
        atol: absolute tolerance.
    """
    numbers: list[tuple[str, Any, Any]] = []
    structure = _walk(expected, served, "", numbers)
    if not numbers:
        return Comparison(not structure, None, structure)
    wanted = np.array([float(n[1]) for n in numbers])
    got = np.array([float(n[2]) for n in numbers])
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(got - wanted)
        close = np.isclose(got, wanted, rtol=rtol, atol=atol, equal_nan=True)
    finite = diff[np.isfinite(diff)]
    max_diff = float(finite.max()) if finite.size else (0.0 if close.all() else float("inf"))
    if structure:
        return Comparison(False, max_diff, structure)
    if close.all():
        return Comparison(True, max_diff)
    first = int(np.argmin(close))
    path, one, other = numbers[first]
    count = int((~close).sum())
    return Comparison(
        False,
        max_diff,
        f"{path}: expected {one!r}, served {other!r} (|diff| {diff[first]:.3g} > "
        f"atol {atol:g} + rtol {rtol:g} x |expected|); {count} of {len(numbers)} numbers differ",
    )


def compare_answers(expected: Answer, served: Answer, rtol: float, atol: float) -> Comparison:
    """Compare an expected answer with the served one: bodies by value, errors by text."""
    if expected.ok and served.ok:
        return compare_json(expected.body, served.body, rtol, atol)
    if not expected.ok and not served.ok:
        if (expected.status, expected.error) == (served.status, served.error):
            return Comparison(True, None)
        return Comparison(
            False,
            None,
            f"both failed, differently: expected {expected.status} {expected.error!r}, served "
            f"{served.status} {served.error!r}",
        )
    if served.ok:
        return Comparison(
            False,
            None,
            f"the server answered, but in-process the request fails with {expected.status} "
            f"{expected.error!r}",
        )
    return Comparison(False, None, f"the server answered {served.status}: {served.error}")


def grpc_error_text(text: str) -> str:
    """An error text as a gRPC client reads it from TF Serving.

    ``ToGRPCStatus`` keeps the first 1024 bytes of a longer message and appends
    ``...TRUNCATED`` (REST sends it whole); grpcio decodes the bytes as UTF-8, replacing what a
    cut through a character leaves.
    """
    data = text.encode("utf-8", "surrogateescape")
    if len(data) <= GRPC_ERROR_LIMIT:
        return text
    return data[:GRPC_ERROR_LIMIT].decode("utf-8", "replace") + "...TRUNCATED"


def _dtype_text(array: np.ndarray) -> str:
    if array.dtype.kind == "O" and array.size and isinstance(array.flat[0], Message):
        return "variant"  # VariantTensorDataProtos, as the clients read a DT_VARIANT
    return "string" if array.dtype.kind in "OSU" else array.dtype.name


def _numbers(array: np.ndarray) -> np.ndarray | None:
    """The values as float64 or complex128 to compare within tolerance; None: compare exactly."""
    kind = array.dtype.kind
    if kind in "OSUb":
        return None
    if kind == "c":
        return array.astype(np.complex128)
    try:  # numeric, including ml_dtypes' bfloat16 (kind "V")
        return array.astype(np.float64)
    except (TypeError, ValueError):
        return None


def compare_outputs(
    expected: Mapping[str, np.ndarray], served: Mapping[str, np.ndarray], rtol: float, atol: float
) -> Comparison:
    """Compare tensors by output alias: the same aliases, dtypes and shapes, values as JSON's.

    Numbers compare as :func:`compare_json` compares them; strings and booleans exactly.
    """
    if set(expected) != set(served):
        return Comparison(
            False, None, f"outputs differ: expected {sorted(expected)}, served {sorted(served)}"
        )
    numbers: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for alias in sorted(expected):
        want, got = np.asarray(expected[alias]), np.asarray(served[alias])
        if _dtype_text(want) != _dtype_text(got):
            return Comparison(
                False,
                None,
                f"output {alias!r} is served as {_dtype_text(got)}, but in-process it is "
                f"{_dtype_text(want)}",
            )
        if want.shape != got.shape:
            return Comparison(
                False,
                None,
                f"output {alias!r} is served with shape {list(got.shape)}, but in-process it "
                f"has {list(want.shape)}",
            )
        wanted, found = _numbers(want), _numbers(got)
        if wanted is not None and found is not None:
            numbers.append((alias, want, got, wanted, found))
            continue
        same = np.array([a == b for a, b in zip(want.flat, got.flat, strict=True)], dtype=bool)
        if not same.all():
            first = int(np.argmin(same))
            return Comparison(
                False,
                None,
                f"{alias}{_index(first, want.shape)}: expected {_describe(_item(want, first))}, "
                f"served {_describe(_item(got, first))}; {int((~same).sum())} of {same.size} "
                "values differ",
            )
    if not numbers or not any(want.size for _, want, *_ in numbers):
        return Comparison(True, None)
    with np.errstate(invalid="ignore", over="ignore"):
        diffs = [np.abs(found - wanted).reshape(-1) for *_, wanted, found in numbers]
        closes = [
            np.isclose(found, wanted, rtol=rtol, atol=atol, equal_nan=True).reshape(-1)
            for *_, wanted, found in numbers
        ]
    diff, close = np.concatenate(diffs), np.concatenate(closes)
    finite = diff[np.isfinite(diff)]
    max_diff = float(finite.max()) if finite.size else (0.0 if close.all() else float("inf"))
    for (alias, want, got, *_), one_diff, one_close in zip(numbers, diffs, closes, strict=True):
        if one_close.all():
            continue
        first = int(np.argmin(one_close))
        # Each value as its own dtype prints it: int64 7, not 7.0; float32 0.1, not 0.100000001.
        return Comparison(
            False,
            max_diff,
            f"{alias}{_index(first, want.shape)}: expected {want.flat[first]!s}, served "
            f"{got.flat[first]!s} (|diff| {one_diff[first]:.3g} > atol {atol:g} + rtol "
            f"{rtol:g} x |expected|); {int((~one_close).sum())} of {one_close.size} numbers "
            "differ",
        )
    return Comparison(True, max_diff)


def _item(array: np.ndarray, flat: int) -> Any:
    """The ``flat``-th element as a Python value (``0.25``, not ``np.float64(0.25)``)."""
    value = array.flat[flat]
    return value.item() if isinstance(value, np.generic) else value


def _index(flat: int, shape: tuple[int, ...]) -> str:
    """``[i][j]`` of the ``flat``-th element, as compare_json writes a path ("" for a scalar)."""
    if not shape:
        return ""
    return "".join(f"[{int(i)}]" for i in np.unravel_index(flat, shape))


def compare_grpc(expected: Answer, served: GrpcAnswer, rtol: float, atol: float) -> Comparison:
    """Compare the in-process answer with a gRPC one: tensors or results, or the same error.

    An in-process error compares as TF Serving sends it over gRPC: its status code name, and
    its text as :func:`grpc_error_text` gives it. Only errors of the run count: a JSON body that
    does not decode was never sent, and JSON's own encoding errors do not exist over gRPC.
    """
    failed = not expected.ok and expected.stage != "encode"
    if not failed and served.ok:
        if expected.outputs is not None:
            return compare_outputs(expected.outputs, served.outputs or {}, rtol, atol)
        return compare_json(expected.results, served.results, rtol, atol)
    if failed and not served.ok:
        wanted = (expected.code, grpc_error_text(expected.error or ""))
        if wanted == (served.code, served.error):
            return Comparison(True, None)
        return Comparison(
            False,
            None,
            f"both failed, differently: expected {wanted[0]} {wanted[1]!r}, served "
            f"{served.code} {served.error!r}",
        )
    if served.ok:
        return Comparison(
            False,
            None,
            f"the server answered, but in-process the request fails with {expected.code} "
            f"{expected.error!r}",
        )
    return Comparison(False, None, f"the server answered {served.code}: {served.error}")
