"""Classify and regress on a loaded version: signature checks, the run, result checks.

TF Serving's classifier and regressor (``classifier.cc``, ``regressor.cc``) accept any signature
whose *shape* fits (one ``inputs`` tensor of serialised ``tf.Example``s; ``classes``/``scores``
or ``outputs``), whatever its method name unless ``--enable_signature_method_name_check`` is set.
After the run they check the tensors the run produced (rank, dtype, batch size), never the
dtypes or shapes the signature declares. The texts below are theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from tensorflow.core.framework import types_pb2

from fashion.serving.runtime.servable import Servable
from fashion.serving.runtime.signature_info import SignatureInfo
from fashion.serving.status import Code, ServingStatusError

__all__ = ["classify", "regress"]

_CLASSIFY_METHOD = "tensorflow/serving/classify"
_REGRESS_METHOD = "tensorflow/serving/regress"


def _invalid(message: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, message)


def _signature(
    servable: Servable, name: str, kind: str, method: str, check_method_name: bool
) -> tuple[SignatureInfo, str]:
    """The checks classify and regress share, in their order: the signature and its one input.

    Args:
        servable: the acquired version.
        name: the signature key.
        kind: ``classification`` or ``regression``, as the texts name it.
        method: the method name ``--enable_signature_method_name_check`` requires.
        check_method_name: ``--enable_signature_method_name_check``.

    Returns:
        The signature's info and its text-format SignatureDef, which the later texts quote.
    """
    info = servable.signatures.get(name)
    if info is None:
        raise _invalid(f"No signature was found with the name: {name}")
    if check_method_name and info.method_name != method:
        raise _invalid(
            f"Expected {kind} signature method_name to be {method}. Was: {info.method_name}"
        )
    debug = text_format.MessageToString(servable.signature_defs[name])
    if len(info.inputs) != 1:
        raise _invalid("Expected one input Tensor.")
    return info, debug


def _shape_text(array: np.ndarray) -> str:
    return "[" + ",".join(str(dim) for dim in array.shape) + "]"


def _dtype_name(array: np.ndarray) -> str:
    """TensorFlow's name of an output's dtype (``DataType_Name``), e.g. ``DT_FLOAT``."""
    return types_pb2.DataType.Name(tf.as_dtype(array.dtype).as_datatype_enum)


def _feed(examples: Sequence[bytes]) -> np.ndarray:
    return np.array(list(examples), dtype=object)


def classify(
    servable: Servable,
    signature_name: str,
    examples: Sequence[bytes],
    *,
    timeout_ms: int | None,
    check_method_name: bool,
) -> list[list[tuple[bytes, float]]]:
    """Run a classification signature; one list of ``(label, score)`` per example.

    Raises:
        ServingStatusError: the signature does not fit, the run fails, or the outputs are off.
    """
    info, debug = _signature(
        servable, signature_name, "classification", _CLASSIFY_METHOD, check_method_name
    )
    if len(info.outputs) not in (1, 2):
        raise _invalid(f"Expected one or two output Tensors, found {len(info.outputs)}")
    if "inputs" not in info.inputs:
        raise _invalid(f"No classification inputs found in SignatureDef: {debug}")
    has_classes, has_scores = "classes" in info.outputs, "scores" in info.outputs
    if not (has_classes or has_scores):
        raise _invalid(
            "Expected classification signature outputs to contain at least one of "
            f'"classes" or "scores". Signature was: {debug}'
        )
    # classifier.cc tells the two apart by tensor name, classes first: when both aliases name
    # one tensor, it is the classes and the scores are absent.
    if has_classes and has_scores and info.outputs["classes"].name == info.outputs["scores"].name:
        has_scores = False
    fetched = ["classes"] * has_classes + ["scores"] * has_scores
    outputs = servable.run(signature_name, {"inputs": _feed(examples)}, timeout_ms, fetched)
    batch = len(examples)
    classes, scores = outputs.get("classes"), outputs.get("scores")
    # PostProcessClassificationResult: checks of the tensors the run produced, in its order.
    for tensor, dtype, what in ((classes, "DT_STRING", "classes"), (scores, "DT_FLOAT", "scores")):
        if tensor is None:
            continue
        if tensor.ndim != 2:
            raise _invalid(
                f"Expected Tensor shape: [batch_size num_classes] but got {_shape_text(tensor)}"
            )
        if _dtype_name(tensor) != dtype:
            raise _invalid(f"Expected {what} Tensor of {dtype}. Got: {_dtype_name(tensor)}")
        if tensor.shape[0] != batch:
            raise _invalid(f"Expected {what} output batch size of {batch}. Got: {tensor.shape[0]}")
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise _invalid(
            "Tensors class and score should match in dim_size(1). "
            f"Got {classes.shape[1]} vs. {scores.shape[1]}"
        )
    width = (classes if classes is not None else scores).shape[1]  # type: ignore[union-attr]
    return [
        [
            (
                bytes(classes[row, col]) if classes is not None else b"",
                float(scores[row, col]) if scores is not None else 0.0,
            )
            for col in range(width)
        ]
        for row in range(batch)
    ]


def regress(
    servable: Servable,
    signature_name: str,
    examples: Sequence[bytes],
    *,
    timeout_ms: int | None,
    check_method_name: bool,
) -> list[float]:
    """Run a regression signature; one value per example.

    Raises:
        ServingStatusError: the signature does not fit, the run fails, or the output is off.
    """
    info, debug = _signature(
        servable, signature_name, "regression", _REGRESS_METHOD, check_method_name
    )
    if len(info.outputs) != 1:
        raise _invalid("Expected one output Tensor.")
    if "inputs" not in info.inputs:
        raise _invalid(f"No regression inputs found in SignatureDef: {debug}")
    if "outputs" not in info.outputs:
        raise _invalid(f"No regression outputs found in SignatureDef: {debug}")
    output = servable.run(signature_name, {"inputs": _feed(examples)}, timeout_ms, ["outputs"])[
        "outputs"
    ]
    # PostProcessRegressionResult: checks of the tensor the run produced, in its order.
    if not (output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1)):
        raise _invalid(
            "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
            f"{_shape_text(output)}"
        )
    if output.shape[0] != len(examples):
        raise _invalid(
            f"Input batch size did not match output batch size: {len(examples)} vs. "
            f"{output.shape[0]}"
        )
    if _dtype_name(output) != "DT_FLOAT":
        raise _invalid(f"Expected output Tensor of DT_FLOAT.  Got: {_dtype_name(output)}")
    if output.size != len(examples):
        raise _invalid(f"Expected output batch size to be {len(examples)}.  Got: {output.size}")
    return [float(value) for value in output.reshape(-1)]
