"""Predict on a loaded version: TF Serving's ``RunPredict`` after the version is resolved.

``predict_util.cc`` looks the signature up (FAILED_PRECONDITION ``Serving signature key ...``),
checks its method name when ``--enable_signature_method_name_check`` is set (INTERNAL), checks
the inputs against the signature and the output filter, and runs the session. Both front doors
come here: REST after its JSON became tensors, gRPC after its TensorProtos did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from fashion.serving.runtime.servable import Servable
from fashion.serving.status import Code, ServingStatusError

__all__ = ["PREDICT_METHODS", "Prediction", "run_predict"]

PREDICT_METHODS = (
    "tensorflow/serving/predict",
    "tensorflow/serving/classify",
    "tensorflow/serving/regress",
)
"""The method names a predict signature may have when the method-name check is on."""


@dataclasses.dataclass(frozen=True)
class Prediction:
    """A predict's outputs.

    Attributes:
        signature_key: the signature that ran (``serving_default`` when none was named).
        outputs: output alias -> tensor, in the signature's alias order (or the filter's).
        output_dtypes: output alias -> dtype of the tensor the run produced (``float``...).
    """

    signature_key: str
    outputs: dict[str, np.ndarray]
    output_dtypes: Mapping[str, str]


def run_predict(
    servable: Servable,
    signature_name: str,
    feeds: Mapping[str, np.ndarray],
    *,
    output_filter: Sequence[str] | None = None,
    timeout_ms: int | None = None,
    check_method_name: bool = False,
) -> Prediction:
    """Run a predict signature.

    Args:
        servable: the resolved version.
        signature_name: the requested signature; empty means ``serving_default``.
        feeds: input alias -> tensor.
        output_filter: output aliases to fetch (none: all).
        timeout_ms: the session run's deadline.
        check_method_name: ``--enable_signature_method_name_check``.

    Raises:
        ServingStatusError: with ``predict_util.cc``'s and TensorFlow's codes and texts.
    """
    key = signature_name or "serving_default"
    info = servable.signatures.get(key)
    if info is None:
        raise ServingStatusError(
            Code.FAILED_PRECONDITION, f'Serving signature key "{key}" not found.'
        )
    if check_method_name and info.method_name not in PREDICT_METHODS:
        raise ServingStatusError(
            Code.INTERNAL,
            "Expected prediction signature method_name to be one of {"
            + ", ".join(PREDICT_METHODS)
            + f"}}. Was: {info.method_name}",
        )
    outputs = servable.run(key, feeds, timeout_ms, output_filter)
    return Prediction(key, outputs, servable.output_dtypes(key))
