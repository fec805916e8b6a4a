"""Classify and regress results to TF Serving's response bodies (``json_tensor.cc``).

``MakeJsonFromClassificationResult`` and ``MakeJsonFromRegressionResult`` write ``results``
with rapidjson's pretty writer in single-line-array mode; scores and values are float32
written by ``WriteDecimal``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fashion.serving.codec.json_document import utf8_bytes
from fashion.serving.codec.json_writer import decimal_strings, quote
from fashion.serving.status import Code, ServingStatusError

__all__ = ["encode_classify_response", "encode_regress_response"]


def encode_classify_response(results: Sequence[Sequence[tuple[bytes | str, float]]]) -> bytes:
    """``MakeJsonFromClassificationResult``: ``[label, score]`` pairs per example.

    Args:
        results: per example, its classes in the model's order as ``(label, score)``.

    Raises:
        ServingStatusError: ``Cannot convert empty ClassificationResults to JSON``.
    """
    if not results:
        raise _invalid("Cannot convert empty ClassificationResults to JSON")
    items = []
    for classes in results:
        scores = decimal_strings(np.array([score for _, score in classes], dtype=np.float32))
        pairs = [
            "[" + quote(_text(label)) + ", " + score + "]"
            for (label, _), score in zip(classes, scores, strict=True)
        ]
        items.append("[" + ", ".join(pairs) + "]")
    return utf8_bytes('{\n    "results": [' + ", ".join(items) + "\n    ]\n}")


def encode_regress_response(values: Sequence[float]) -> bytes:
    """``MakeJsonFromRegressionResult``: one number per example on one line.

    Raises:
        ServingStatusError: ``Cannot convert empty RegressionResults to JSON``.
    """
    if len(values) == 0:
        raise _invalid("Cannot convert empty RegressionResults to JSON")
    numbers = decimal_strings(np.asarray(values, dtype=np.float32))
    return utf8_bytes('{\n    "results": [' + ", ".join(numbers) + "]\n}")


def _text(label: bytes | str) -> str:
    return label.decode("utf-8", "surrogateescape") if isinstance(label, bytes) else label


def _invalid(message: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, message)
