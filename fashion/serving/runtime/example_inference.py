"""Classify and regress on a loaded version: signature checks, the run, result checks.

TF Serving's classifier and regressor (``classifier.cc``, ``regressor.cc``) accept any signature
whose *shape* fits (one ``inputs`` tensor of serialised ``tf.Example``s; ``classes``/``scores``
or ``outputs``), whatever its method name unless ``--enable_signature_method_name_check`` is set.
After the run they check the tensors the run produced (rank, dtype, batch size), never the
dtypes or shapes the signature declares. Each step is a function of its own, named after its
C++ counterpart, because MultiInference (``multi_inference.cc``) composes the same steps around
one shared session run. The texts are theirs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf
from google.protobuf import text_format
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import input_pb2

from fashion.serving.runtime.servable import Servable
from fashion.serving.runtime.signature_info import SignatureInfo
from fashion.serving.runtime.variant_outputs import holds_variants
from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "CLASSIFY_METHOD",
    "REGRESS_METHOD",
    "Classifications",
    "Examples",
    "SignatureRun",
    "classification_results",
    "classify",
    "classify_signature",
    "examples_tensor",
    "regress",
    "regress_signature",
    "regression_results",
    "serialized_examples",
]

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"

Classifications = list[list[tuple[bytes, float]]]
"""Per example, its classes in the model's order as ``(label, score)``."""


@dataclasses.dataclass(frozen=True)
class SignatureRun:
    """What a classification or regression signature is fed and what is fetched for it.

    Attributes:
        signature_name: the signature key.
        input_name: the graph tensor fed with the serialised examples.
        classes: the graph tensor of the classes (classification only), or None.
        scores: the graph tensor of the scores (classification only), or None.
        outputs: the graph tensor of the values (regression only), or None.
    """

    signature_name: str
    input_name: str
    classes: str | None = None
    scores: str | None = None
    outputs: str | None = None

    @property
    def fetches(self) -> list[str]:
        """Tensor names to fetch, in ``PreProcess*``'s order."""
        return [name for name in (self.classes, self.scores, self.outputs) if name is not None]


def _invalid(message: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, message)


_METHODS = {"classification": CLASSIFY_METHOD, "regression": REGRESS_METHOD}


def _one_input_signature(
    servable: Servable, name: str, check_method_name: bool, kind: str
) -> SignatureInfo:
    """The checks ``classifier.cc`` and ``regressor.cc`` share, in their order: the signature
    exists, has the method (when checked) and one input."""
    info = servable.signatures.get(name)
    if info is None:
        raise _invalid(f"No signature was found with the name: {name}")
    if check_method_name and info.method_name != _METHODS[kind]:
        raise _invalid(
            f"Expected {kind} signature method_name to be {_METHODS[kind]}. Was: {info.method_name}"
        )
    if len(info.inputs) != 1:
        raise _invalid("Expected one input Tensor.")
    return info


def classify_signature(servable: Servable, name: str, check_method_name: bool) -> SignatureRun:
    """``GetClassificationSignatureDef`` then ``PreProcessClassification``: the checks before
    the run, in their order.

    Raises:
        ServingStatusError: INVALID_ARGUMENT with ``classifier.cc``'s texts.
    """
    info = _one_input_signature(servable, name, check_method_name, "classification")
    if len(info.outputs) not in (1, 2):
        raise _invalid(f"Expected one or two output Tensors, found {len(info.outputs)}")
    debug = text_format.MessageToString(servable.signature_defs[name])
    if "inputs" not in info.inputs:
        raise _invalid(f"No classification inputs found in SignatureDef: {debug}")
    classes, scores = info.outputs.get("classes"), info.outputs.get("scores")
    if classes is None and scores is None:
        raise _invalid(
            "Expected classification signature outputs to contain at least one of "
            f'"classes" or "scores". Signature was: {debug}'
        )
    # The two are told apart by tensor name, classes first: when both aliases name one tensor,
    # it is the classes and the scores are absent.
    scores_name = None if scores is None or (classes and classes.name == scores.name) else scores
    return SignatureRun(
        name,
        info.inputs["inputs"].name,
        classes=classes.name if classes else None,
        scores=scores_name.name if scores_name else None,
    )


def regress_signature(servable: Servable, name: str, check_method_name: bool) -> SignatureRun:
    """``GetRegressionSignatureDef`` then ``PreProcessRegression``.

    Raises:
        ServingStatusError: INVALID_ARGUMENT with ``regressor.cc``'s texts.
    """
    info = _one_input_signature(servable, name, check_method_name, "regression")
    if len(info.outputs) != 1:
        raise _invalid("Expected one output Tensor.")
    debug = text_format.MessageToString(servable.signature_defs[name])
    if "inputs" not in info.inputs:
        raise _invalid(f"No regression inputs found in SignatureDef: {debug}")
    if "outputs" not in info.outputs:
        raise _invalid(f"No regression outputs found in SignatureDef: {debug}")
    return SignatureRun(name, info.inputs["inputs"].name, outputs=info.outputs["outputs"].name)


def serialized_examples(model_input: input_pb2.Input) -> list[bytes]:
    """``InputToSerializedExampleTensor``: one serialised Example per example, context first.

    Concatenated serializations merge like protobuf ``MergeFrom``: an example's feature
    overrides the context's feature of the same name.

    Raises:
        ServingStatusError: INVALID_ARGUMENT ``Input is empty.`` when there are no examples.
    """
    kind = model_input.WhichOneof("kind")
    if kind == "example_list":
        records = [e.SerializeToString() for e in model_input.example_list.examples]
    elif kind == "example_list_with_context":
        with_context = model_input.example_list_with_context
        context = with_context.context.SerializeToString()
        records = [context + e.SerializeToString() for e in with_context.examples]
    else:
        records = []
    if not records:
        raise _invalid("Input is empty.")
    return records


def examples_tensor(examples: Sequence[bytes]) -> np.ndarray:
    """The 1-D string tensor of serialised examples that the signatures are fed."""
    return np.array(list(examples), dtype=object)


def _shape_text(array: np.ndarray) -> str:
    return "[" + ",".join(str(dim) for dim in array.shape) + "]"


def _dtype_name(array: np.ndarray) -> str:
    """TensorFlow's name of an output's dtype (``DataType_Name``), e.g. ``DT_FLOAT``."""
    if holds_variants(array):
        return "DT_VARIANT"
    return types_pb2.DataType.Name(tf.as_dtype(array.dtype).as_datatype_enum)


def classification_results(
    run: SignatureRun, outputs: Mapping[str, np.ndarray], batch: int
) -> Classifications:
    """``PostProcessClassificationResult``: the checks of the tensors the run produced.

    Args:
        run: from :func:`classify_signature`.
        outputs: fetched tensors by tensor name.
        batch: how many examples were fed.
    """
    classes = outputs[run.classes] if run.classes else None
    scores = outputs[run.scores] if run.scores else None
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


def regression_results(
    run: SignatureRun, outputs: Mapping[str, np.ndarray], batch: int
) -> list[float]:
    """``PostProcessRegressionResult``: the checks of the tensor the run produced."""
    output = outputs[run.outputs]  # type: ignore[index]
    if not (output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1)):
        raise _invalid(
            "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
            f"{_shape_text(output)}"
        )
    if output.shape[0] != batch:
        raise _invalid(
            f"Input batch size did not match output batch size: {batch} vs. {output.shape[0]}"
        )
    if _dtype_name(output) != "DT_FLOAT":
        raise _invalid(f"Expected output Tensor of DT_FLOAT.  Got: {_dtype_name(output)}")
    if output.size != batch:
        raise _invalid(f"Expected output batch size to be {batch}.  Got: {output.size}")
    return [float(value) for value in output.reshape(-1)]


Examples = Sequence[bytes] | input_pb2.Input
"""Serialised examples (REST: the body was converted first), or a gRPC ``Input``, which is
converted after the signature checks, as ``classifier.cc``/``regressor.cc`` do."""


def _run_signature(
    servable: Servable, run: SignatureRun, examples: Examples, timeout_ms: int | None
) -> tuple[dict[str, np.ndarray], int]:
    if isinstance(examples, input_pb2.Input):
        examples = serialized_examples(examples)
    feeds = {run.input_name: examples_tensor(examples)}
    return servable.run_tensors(feeds, run.fetches, timeout_ms), len(examples)


def classify(
    servable: Servable,
    signature_name: str,
    examples: Examples,
    *,
    timeout_ms: int | None,
    check_method_name: bool,
) -> Classifications:
    """Run a classification signature; one list of ``(label, score)`` per example.

    Raises:
        ServingStatusError: the signature does not fit, the run fails, or the outputs are off.
    """
    run = classify_signature(servable, signature_name, check_method_name)
    outputs, batch = _run_signature(servable, run, examples, timeout_ms)
    return classification_results(run, outputs, batch)


def regress(
    servable: Servable,
    signature_name: str,
    examples: Examples,
    *,
    timeout_ms: int | None,
    check_method_name: bool,
) -> list[float]:
    """Run a regression signature; one value per example.

    Raises:
        ServingStatusError: the signature does not fit, the run fails, or the output is off.
    """
    run = regress_signature(servable, signature_name, check_method_name)
    outputs, batch = _run_signature(servable, run, examples, timeout_ms)
    return regression_results(run, outputs, batch)
