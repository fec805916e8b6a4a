"""Answers, and served answers against expected ones: same JSON, numbers within a tolerance.

Numbers compare like ``numpy.isclose(served, expected, rtol, atol)`` (the expected value is the
reference; NaN equals NaN, infinities must match); strings, booleans and the structure (keys,
list lengths) must be equal. Errors compare by HTTP status and text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fashion.serving.status import ServingStatusError

__all__ = ["Answer", "Comparison", "compare_answers", "compare_json"]


@dataclass(frozen=True)
class Answer:
    """What one request got, from the server or in-process.

    Attributes:
        body: the decoded JSON answer, when it succeeded.
        status: the HTTP status of an error (TF Serving's mapping of the status code).
        error: the error text (TF Serving's ``{"error": ...}``).
        stage: in-process only: where an error arose, ``decode``, ``run`` or ``encode``.
        outputs: in-process predict only: the tensors the run produced, by output alias.
    """

    body: Any = None
    status: int | None = None
    error: str | None = None
    stage: str = ""
    outputs: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the request succeeded."""
        return self.error is None

    @classmethod
    def failed(cls, exc: ServingStatusError, stage: str) -> Answer:
        """An in-process error as the server would report it."""
        return cls(status=exc.http_status, error=exc.message, stage=stage)


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
    text = repr(value)
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
