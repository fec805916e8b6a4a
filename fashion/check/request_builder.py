"""Requests built from a signature alone: seeded values of the right dtype and shape.

Every input gets values of its declared dtype for batch sizes 1 and N; an unknown (-1) first
dimension is the batch, other unknown dimensions come from ``--dim`` or are the batch size too,
and an input of unknown rank is sent as one value per example. Predict signatures get both of
TF Serving's JSON forms, row (``instances``) and columnar (``inputs``); classify and regress
signatures that take serialised ``tf.Example`` s get ``examples`` with the features their
``ParseExample`` node reads. The bodies are JSON bytes: the in-process side decodes the very
bytes the server receives.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fashion.check.example_features import Feature, example_features
from fashion.check.options import CheckOptions

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

__all__ = [
    "CLASSIFY_METHOD",
    "INIT_OP_SIGNATURE",
    "REGRESS_METHOD",
    "BuiltRequest",
    "SignaturePlan",
    "is_examples_signature",
    "plan_signature",
]

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
#: The signature TF2 SavedModels carry for their initialiser; not a serving signature.
INIT_OP_SIGNATURE = "__saved_model_init_op"

_FLOATS = {"float": np.float32, "double": np.float64}
_INTEGERS = {
    name: getattr(np, name) for name in ("int8", "int16", "int32", "int64", "uint8", "uint32")
} | {"uint64": np.uint64}
# Small values: they are valid indices into any embedding table or vocabulary of 4 or more.
_INT_HIGH = 4


@dataclass(frozen=True)
class BuiltRequest:
    """One request body and the endpoint it goes to.

    Attributes:
        api: ``predict``, ``classify`` or ``regress``.
        check: the table's check name (``predict row batch 4``).
        body: the JSON body.
    """

    api: str
    check: str
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class SignaturePlan:
    """What can be sent to one signature.

    Attributes:
        name: the signature key.
        requests: the built requests, in order.
        skipped: why nothing (or not every form) could be built, one reason per line.
    """

    name: str
    requests: list[BuiltRequest]
    skipped: list[str] = field(default_factory=list)


def is_examples_signature(signature: meta_graph_pb2.SignatureDef) -> bool:
    """A classify/regress signature with one string input ``inputs``: fed serialised Examples."""
    from tensorflow.core.framework import types_pb2

    return (
        signature.method_name in (CLASSIFY_METHOD, REGRESS_METHOD)
        and list(signature.inputs) == ["inputs"]
        and signature.inputs["inputs"].dtype == types_pb2.DT_STRING
    )


def plan_signature(
    name: str,
    signature: meta_graph_pb2.SignatureDef,
    meta_graph: meta_graph_pb2.MetaGraphDef,
    options: CheckOptions,
) -> SignaturePlan:
    """Build the requests for one signature (batch sizes 1 and ``options.batch_size``).

    Args:
        name: the signature key.
        signature: its SignatureDef.
        meta_graph: the MetaGraph it belongs to (for the ``ParseExample`` node).
        options: batch size, ``--dim`` sizes and the seed.
    """
    batches = sorted({1, options.batch_size})
    if not signature.inputs:
        return SignaturePlan(
            name,
            [],
            [
                "the signature has no inputs, and TF Serving's REST API cannot call a signature "
                "without inputs (it answers 'Failed to get input map for signature')"
            ],
        )
    if is_examples_signature(signature):
        return _examples_plan(name, signature, meta_graph, options, batches)
    return _predict_plan(name, signature, options, batches)


def _rng(options: CheckOptions, *parts: object) -> np.random.Generator:
    return np.random.default_rng(
        [options.seed, *(zlib.crc32(str(part).encode()) for part in parts)]
    )


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _values(dtype: str, shape: tuple[int, ...], rng: np.random.Generator, label: str) -> Any:
    """Seeded values as nested lists (JSON-ready)."""
    if dtype in _FLOATS:
        return rng.random(shape).astype(_FLOATS[dtype]).tolist()
    if dtype in _INTEGERS:
        return rng.integers(0, _INT_HIGH, shape).astype(_INTEGERS[dtype]).tolist()
    if dtype == "bool":
        return (rng.integers(0, 2, shape) == 1).tolist()
    count = math.prod(shape)
    words = np.array([f"{label}-{rng.integers(0, 1000)}" for _ in range(count)], dtype=object)
    return words.reshape(shape).tolist()


def _input_shape(
    alias: str, declared: list[int] | None, dim_names: list[str], batch: int, options: CheckOptions
) -> tuple[int, ...]:
    if declared is None:
        return (batch,)
    shape = []
    for axis, size in enumerate(declared):
        if size >= 0:
            shape.append(size)
        elif axis == 0:
            shape.append(batch)
        else:
            given = options.dim_size(alias, axis, dim_names[axis])
            shape.append(batch if given is None else given)
    return tuple(shape)


def _predict_plan(
    name: str,
    signature: meta_graph_pb2.SignatureDef,
    options: CheckOptions,
    batches: list[int],
) -> SignaturePlan:
    from fashion.serving.runtime.signature_info import signature_info

    info = signature_info(signature)
    unsupported = [
        f"input {alias!r} is {spec.dtype}, which TF Serving's JSON API cannot carry (gRPC can); "
        "add golden requests over gRPC, or change the input's dtype"
        for alias, spec in info.inputs.items()
        if spec.dtype not in (*_FLOATS, *_INTEGERS, "bool", "string")
    ]
    if unsupported:
        return SignaturePlan(name, [], unsupported)
    dim_names = {
        alias: [d.name for d in signature.inputs[alias].tensor_shape.dim] for alias in info.inputs
    }
    batched = all(spec.shape is None or spec.shape[:1] == [-1] for spec in info.inputs.values())
    requests: list[BuiltRequest] = []
    skipped: list[str] = []
    if not batched:
        skipped.append(
            "an input has no batch dimension (its first dimension is not -1), so no row-format "
            "(instances) request was built; the columnar one sends the declared shapes"
        )
    for batch in batches if batched else [0]:
        tensors = {
            alias: _values(
                spec.dtype,
                _input_shape(alias, spec.shape, dim_names[alias], batch, options),
                _rng(options, name, alias, batch),
                alias,
            )
            for alias, spec in info.inputs.items()
        }
        label = f" batch {batch}" if batched else ""
        if batched:
            if len(tensors) == 1:
                instances: list[Any] = next(iter(tensors.values()))
            else:
                instances = [
                    {alias: value[row] for alias, value in tensors.items()} for row in range(batch)
                ]
            body = _json({"signature_name": name, "instances": instances})
            requests.append(BuiltRequest("predict", f"predict row{label}", body))
        body = _json({"signature_name": name, "inputs": tensors})
        requests.append(BuiltRequest("predict", f"predict columnar{label}", body))
    return SignaturePlan(name, requests, skipped)


def _feature_value(feature: Feature, rng: np.random.Generator) -> list[Any]:
    count = math.prod(feature.shape) if feature.kind == "dense" else 2
    if feature.dtype == "float":
        # Written with a fraction (json writes 1.0, never 1), so TF Serving makes a float feature.
        return [float(v) for v in rng.random(count).astype(np.float32)]
    if feature.dtype == "int64":
        return [int(v) for v in rng.integers(0, _INT_HIGH, count)]
    return [f"{feature.key}-{rng.integers(0, 1000)}" for _ in range(count)]


def _examples_plan(
    name: str,
    signature: meta_graph_pb2.SignatureDef,
    meta_graph: meta_graph_pb2.MetaGraphDef,
    options: CheckOptions,
    batches: list[int],
) -> SignaturePlan:
    features = example_features(meta_graph, signature.inputs["inputs"].name)
    if features is None:
        return SignaturePlan(
            name,
            [],
            [
                "no ParseExample node with constant feature keys reads this signature's input, "
                "so the features it needs are unknown; give examples with --requests"
            ],
        )
    api = "classify" if signature.method_name == CLASSIFY_METHOD else "regress"
    requests = []
    for batch in batches:
        rng = _rng(options, name, batch)
        examples = [{f.key: _feature_value(f, rng) for f in features} for _ in range(batch)]
        body = _json({"signature_name": name, "examples": examples})
        requests.append(BuiltRequest(api, f"{api} batch {batch}", body))
    return SignaturePlan(name, requests)
