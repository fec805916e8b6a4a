"""Predict request bodies to input tensors, with TF Serving's checks and texts.

The REST handler needs the body checked in two steps, because TF Serving reports body errors
before it looks the model up and signature errors after (``http_rest_api_handler.cc``,
``ProcessPredictRequest``):

1. :func:`read_predict_request` - parse, top level is an object, ``signature_name`` a string;
2. (caller) resolve model, version and signature;
3. :func:`decode_inputs` - ``instances``/``inputs`` against the signature's inputs.

Conversion follows ``json_tensor.cc``: a value's shape comes from the first item at each level,
every leaf is checked against the input's dtype, row-format instances are stacked. The checks
walk the JSON without recursion, and lists that the parser already converted into numpy arrays
(:meth:`JsonDocument.block`) are taken in one piece when that cannot change the outcome, so a
well-formed 256x28x28x1 float request never touches its floats one by one in Python.

The commonest body, a regular array of numbers under ``instances`` or ``inputs``, takes the
shorter road of :mod:`fashion.serving.codec.dense_body`; anything it cannot prove, and every error,
goes the general way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fashion.serving.codec.dense_body import DenseBody, recognise_dense_body
from fashion.serving.codec.json_document import (
    JsonDocument,
    members,
    parse_json_document,
)
from fashion.serving.codec.json_tensor import (
    TensorBuilder,
    block_as,
    is_array,
    is_base64_object,
    is_object,
    value_to_tensor,
)
from fashion.serving.codec.json_writer import debug_json
from fashion.serving.codec.request_object import read_request_object
from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "DecodedInputs",
    "PredictRequest",
    "decode_inputs",
    "read_predict_request",
]

_MISSING = object()


@dataclass(frozen=True)
class PredictRequest:
    """A predict body that passed the checks TF Serving makes before resolving the model.

    Attributes:
        signature_name: ``signature_name`` as sent; ``""`` when absent (``""`` means default).
        body: the raw body.
    """

    signature_name: str
    body: bytes = field(repr=False)
    _dense: DenseBody | None = field(default=None, repr=False, compare=False)
    _document: JsonDocument | None = field(default=None, repr=False, compare=False)

    @property
    def signature_key(self) -> str:
        """The signature to look up: ``serving_default`` unless one was named."""
        return self.signature_name or "serving_default"

    @property
    def document(self) -> JsonDocument:
        """The parsed body; parsed on first use when the dense road was taken."""
        document = self._document
        if document is None:
            document = parse_json_document(self.body)
            object.__setattr__(self, "_document", document)
        return document


@dataclass(frozen=True)
class DecodedInputs:
    """Input tensors of a predict request and the format they came in.

    Attributes:
        tensors: input key -> tensor (strings as object arrays of ``bytes``).
        row_format: True for ``instances`` (answer with ``predictions``), False for ``inputs``.
    """

    tensors: dict[str, np.ndarray]
    row_format: bool


def read_predict_request(body: bytes) -> PredictRequest:
    """What ``ProcessPredictRequest`` checks before it resolves the model.

    Args:
        body: the raw request body.

    Returns:
        The signature name and the parsed body, for :func:`decode_inputs`.

    Raises:
        ServingStatusError: INVALID_ARGUMENT (parse error, not an object, bad
            ``signature_name``); these win over a missing model.
    """
    dense = recognise_dense_body(body)
    if dense is not None:  # an object with a string signature_name: nothing to report
        return PredictRequest(dense.signature_name, body, _dense=dense)
    document, name = read_request_object(body)
    return PredictRequest(name, body, _document=document)


def decode_inputs(request: PredictRequest, inputs: Mapping[str, str]) -> DecodedInputs:
    """``FillPredictRequestFromJson``: ``instances``/``inputs`` to the signature's tensors.

    Args:
        request: from :func:`read_predict_request`.
        inputs: the signature's inputs in map order, input key -> TensorFlow dtype name
            (``float``, ``int64``, ``string``, ...).

    Returns:
        The tensors and which format was used.

    Raises:
        ServingStatusError: with the texts of ``json_tensor.cc`` (UNIMPLEMENTED for dtypes without a
            JSON conversion in columnar format, INVALID_ARGUMENT otherwise).
    """
    if not inputs:
        raise _invalid(
            f"Failed to get input map for signature: {request.signature_name or 'DEFAULT'}"
        )
    if request._dense is not None:
        decoded = _decode_dense(request._dense, inputs)
        if decoded is not None:
            return decoded
    document = request.document
    root = document.root
    instances = root.get("instances", _MISSING)
    columns = root.get("inputs", _MISSING)
    if instances is not _MISSING:
        if columns is not _MISSING:
            raise _invalid(
                f"JSON Value: {debug_json(root)} Not formatted correctly expecting only one of "
                "'inputs' or 'instances' keys to exist "
            )
        if not is_array(instances):
            raise _invalid(
                f"JSON Value: {debug_json(root)} Expecting 'instances' to be an list/array"
            )
        if not instances:
            raise _invalid(f"JSON Value: {debug_json(root)} No values in 'instances' array")
        return DecodedInputs(_decode_rows(document, instances, inputs), True)
    if columns is not _MISSING:
        return DecodedInputs(_decode_columns(document, columns, inputs), False)
    raise _invalid("Missing 'inputs' or 'instances' key")


def _decode_rows(
    document: JsonDocument, instances: list, inputs: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """``FillTensorMapFromInstancesList``: one tensor per input, instances stacked."""
    first = instances[0]
    if not is_object(first) and len(inputs) > 1:
        raise _invalid(
            "instances is a plain list, but expecting list of objects as multiple input tensors "
            "required as per tensorinfo_map"
        )
    named = is_object(first) and not is_base64_object(first)
    if not named:
        name = next(iter(inputs))
        whole = block_as(document.block(instances), inputs[name])
        if whole is not None and whole.ndim >= 1:
            return {name: whole}
    builders: dict[str, TensorBuilder] = {}
    input_names = sorted(inputs)
    for index, element in enumerate(instances):
        if named:
            if not is_object(element) or is_base64_object(element):
                raise _invalid(f"Expecting object but got list at item {index} of input list")
            keys: set[str] = set()
            for key, item in members(element):
                keys.add(key)
                _add_instance(document, builders, inputs, key, item, f"{index} key: {key}")
            if sorted(keys) != input_names:
                raise _invalid(
                    f"Failed to process element: {index} of 'instances' list. JSON object: "
                    f"{debug_json(element)} keys must be equal to: {','.join(input_names)}"
                )
        else:
            if is_object(element) and not is_base64_object(element):
                raise _invalid(f"Expecting value/list but got object at item {index} of input list")
            _add_instance(document, builders, inputs, name, element, str(index))
    return {
        name: builder.tensor((len(instances), *builder.shape)) for name, builder in builders.items()
    }


def _add_instance(
    document: JsonDocument,
    builders: dict[str, TensorBuilder],
    inputs: Mapping[str, str],
    name: str,
    item: object,
    element: str,
) -> None:
    """One instance into input ``name``'s tensor; a failure (an unknown input included) names
    the element (``json_tensor.cc``)."""
    try:
        _builder(document, builders, inputs, name).add_instance(item)
    except ServingStatusError as exc:
        raise _invalid(
            f"Failed to process element: {element} of 'instances' list. "
            f"Error: {exc.as_status_text()}"
        ) from None


def _builder(
    document: JsonDocument, builders: dict[str, TensorBuilder], inputs: Mapping[str, str], name: str
) -> TensorBuilder:
    """The tensor being stacked for input ``name`` (``AddInstanceItem``'s first check)."""
    if name not in inputs:
        raise _invalid(f"JSON object: does not have named input: {name}")
    builder = builders.get(name)
    if builder is None:
        builder = builders[name] = TensorBuilder(document, inputs[name])
    return builder


def _decode_columns(
    document: JsonDocument, columns: Any, inputs: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """``FillTensorMapFromInputsMap``: each value converted as it stands, no batching."""
    if not is_object(columns) or is_base64_object(columns):
        if len(inputs) > 1:
            raise _invalid(
                "inputs is a plain value/list, but expecting an object as multiple input tensors "
                "required as per tensorinfo_map"
            )
        name = next(iter(inputs))
        return {name: value_to_tensor(document, columns, inputs[name])}
    tensors: dict[str, np.ndarray] = {}
    for name, dtype in inputs.items():
        item = columns.get(name, _MISSING)
        if item is _MISSING:
            raise _invalid(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = value_to_tensor(document, item, dtype)
    return tensors


def _decode_dense(dense: DenseBody, inputs: Mapping[str, str]) -> DecodedInputs | None:
    """What :func:`decode_inputs` returns for a dense body when it succeeds, else None.

    With one input, a plain array goes whole through :func:`block_as` in both formats; with
    several, or when a value fails the dtype's check, the general path finds the error.
    """
    if len(inputs) != 1:
        return None
    name, dtype = next(iter(inputs.items()))
    whole = block_as(dense.array, dtype)
    if whole is None:
        return None
    return DecodedInputs({name: whole}, dense.key == "instances")


def _invalid(message: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, message)
