"""Requests built from a signature alone: seeded values of the right dtype and shape.

Every input gets values of its declared dtype for batch sizes 1 and N; an unknown (-1) first
dimension is the batch, other unknown dimensions come from ``--dim`` or are the batch size too,
and an input of unknown rank is sent as one value per example. Predict signatures get both of
TF Serving's JSON forms, row (``instances``) and columnar (``inputs``); classify and regress
signatures that take serialised ``tf.Example`` s get ``examples`` with the features their
``ParseExample`` node reads. A predict signature's string input gets serialised examples too
when the graph parses it as examples, and seeded PNG or JPEG images when
the graph decodes it as images, both sent as ``{"b64": ...}``. The bodies are JSON bytes: the
in-process side decodes the very bytes the server receives.

gRPC requests send the same values: a gRPC request names the JSON body (the columnar one, or
the examples) whose decoded tensors or examples it carries, so both APIs are asked the same
thing. Inputs that TF Serving's JSON cannot carry (half, bfloat16, complex, uint16) and
signatures without inputs, which REST cannot call, get gRPC requests of tensors only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fashion.check.example_features import example_features
from fashion.check.options import CheckOptions
from fashion.check.seeded_values import (
    GRPC_ONLY_DTYPES,
    JSON_DTYPES,
    Filler,
    feature_values,
    json_values,
    seeded_array,
    seeded_rng,
    string_fillers,
    tensor_values,
)

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

__all__ = [
    "CLASSIFY_METHOD",
    "GRPC",
    "INIT_OP_SIGNATURE",
    "REGRESS_METHOD",
    "REST",
    "BuiltRequest",
    "SignaturePlan",
    "is_examples_signature",
    "plan_signature",
]

CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"
#: The signature TF2 SavedModels carry for their initialiser; not a serving signature.
INIT_OP_SIGNATURE = "__saved_model_init_op"
#: The transports, as rows and requests name them.
REST, GRPC = "rest", "grpc"


@dataclass(frozen=True)
class BuiltRequest:
    """One request and the endpoint it goes to.

    Attributes:
        api: ``predict``, ``classify`` or ``regress``.
        check: the table's check name (``predict row batch 4``, ``predict grpc batch 4``).
        body: the JSON body; for a gRPC request, the body whose decoded values it sends (b""
            when it has ``tensors``).
        transport: ``rest`` or ``grpc``.
        tensors: a gRPC predict request no JSON can carry: its inputs, by alias.
    """

    api: str
    check: str
    body: bytes = field(repr=False)
    transport: str = REST
    tensors: Mapping[str, np.ndarray] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SignaturePlan:
    """What can be sent to one signature.

    Attributes:
        name: the signature key.
        requests: the built REST requests, in order.
        skipped: why no REST request (or not every form) could be built, one reason per line.
        grpc_requests: the built gRPC requests, in order.
        grpc_skipped: why no gRPC request could be built.
    """

    name: str
    requests: list[BuiltRequest]
    skipped: list[str] = field(default_factory=list)
    grpc_requests: list[BuiltRequest] = field(default_factory=list)
    grpc_skipped: list[str] = field(default_factory=list)


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
    """Build the requests for one signature (batch sizes 1 and ``options.batch_size``), for
    the transports ``options.transport`` names.

    Args:
        name: the signature key.
        signature: its SignatureDef.
        meta_graph: the MetaGraph it belongs to (for the ``ParseExample`` node).
        options: batch size, ``--dim`` sizes, the seed and the transports.
    """
    batches = sorted({1, options.batch_size})
    if not signature.inputs:
        plan = SignaturePlan(
            name,
            [],
            [
                "the signature has no inputs, and TF Serving's REST API cannot call a signature "
                "without inputs (it answers 'Failed to get input map for signature')"
                + ("; it is checked over gRPC only" if options.over_grpc else "")
            ],
            [BuiltRequest("predict", "predict grpc", b"", GRPC, tensors={})],
        )
    elif is_examples_signature(signature):
        plan = _examples_plan(name, signature, meta_graph, options, batches)
    else:
        plan = _predict_plan(
            name, signature, options, batches, string_fillers(signature, meta_graph)
        )
    if not options.over_rest:
        plan = dataclasses.replace(plan, requests=[], skipped=[])
    if not options.over_grpc:
        plan = dataclasses.replace(plan, grpc_requests=[], grpc_skipped=[])
    return plan


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


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
    fillers: Mapping[str, Filler],
) -> SignaturePlan:
    """The predict requests; ``fillers`` fill the string inputs that must carry examples or
    images (:func:`~fashion.check.seeded_values.string_fillers`)."""
    from fashion.serving.runtime.signature_info import signature_info

    info = signature_info(signature)
    uncarried = {a: s.dtype for a, s in info.inputs.items() if s.dtype not in JSON_DTYPES}
    unsendable = {a: d for a, d in uncarried.items() if d not in GRPC_ONLY_DTYPES}
    if unsendable:
        reasons = [
            f"{_inputs_text(unsendable)}: neither TF Serving's JSON API nor this check's gRPC "
            "requests carry these dtypes; give the inputs numeric, bool or string dtypes"
        ]
        return SignaturePlan(name, [], reasons, [], reasons)
    dim_names = {
        alias: [d.name for d in signature.inputs[alias].tensor_shape.dim] for alias in info.inputs
    }
    batched = all(spec.shape is None or spec.shape[:1] == [-1] for spec in info.inputs.values())
    requests: list[BuiltRequest] = []
    grpc_requests: list[BuiltRequest] = []
    skipped: list[str] = []
    if uncarried:
        skipped = [
            f"{_inputs_text(uncarried)}: TF Serving's JSON API cannot carry "
            + (
                "these dtypes, so the signature is checked over gRPC only"
                if options.over_grpc
                else "these dtypes (gRPC can: check with --transport both or grpc)"
            )
        ]
    elif not batched:
        skipped.append(
            "an input has no batch dimension (its first dimension is not -1), so no row-format "
            "(instances) request was built; the columnar one sends the declared shapes"
        )
    for batch in batches if batched else [0]:
        arrays = {}
        for alias, spec in info.inputs.items():
            shape = _input_shape(alias, spec.shape, dim_names[alias], batch, options)
            rng = seeded_rng(options, name, alias, batch)
            if alias in fillers:
                arrays[alias] = fillers[alias](shape, rng)
            else:
                arrays[alias] = seeded_array(spec.dtype, shape, rng, alias)
        label = f" batch {batch}" if batched else ""
        if uncarried:
            tensors = {alias: tensor_values(array) for alias, array in arrays.items()}
            grpc_requests.append(
                BuiltRequest("predict", f"predict grpc{label}", b"", GRPC, tensors=tensors)
            )
            continue
        values = {alias: json_values(array.tolist()) for alias, array in arrays.items()}
        if batched:
            if len(values) == 1:
                instances: list[Any] = next(iter(values.values()))
            else:
                instances = [
                    {alias: value[row] for alias, value in values.items()} for row in range(batch)
                ]
            body = _json({"signature_name": name, "instances": instances})
            requests.append(BuiltRequest("predict", f"predict row{label}", body))
        body = _json({"signature_name": name, "inputs": values})
        requests.append(BuiltRequest("predict", f"predict columnar{label}", body))
        # gRPC sends what the columnar body decodes to (the row body decodes to the same).
        grpc_requests.append(BuiltRequest("predict", f"predict grpc{label}", body, GRPC))
    return SignaturePlan(name, requests, skipped, grpc_requests)


def _inputs_text(dtypes: Mapping[str, str]) -> str:
    """``input 'x' is half`` or ``inputs 'b' (bfloat16) and 'h' (half)``."""
    if len(dtypes) == 1:
        ((alias, dtype),) = dtypes.items()
        return f"input {alias!r} is {dtype}"
    named = [f"{alias!r} ({dtype})" for alias, dtype in sorted(dtypes.items())]
    return f"inputs {', '.join(named[:-1])} and {named[-1]}"


def _examples_plan(
    name: str,
    signature: meta_graph_pb2.SignatureDef,
    meta_graph: meta_graph_pb2.MetaGraphDef,
    options: CheckOptions,
    batches: list[int],
) -> SignaturePlan:
    features = example_features(meta_graph, signature.inputs["inputs"].name)
    if features is None:
        reasons = [
            "no ParseExample node with constant feature keys reads this signature's input, "
            "so the features it needs are unknown; give examples with --requests"
        ]
        return SignaturePlan(name, [], reasons, [], reasons)
    api = "classify" if signature.method_name == CLASSIFY_METHOD else "regress"
    requests, grpc_requests = [], []
    for batch in batches:
        rng = seeded_rng(options, name, batch)
        examples = [{f.key: feature_values(f, rng) for f in features} for _ in range(batch)]
        body = _json({"signature_name": name, "examples": examples})
        requests.append(BuiltRequest(api, f"{api} batch {batch}", body))
        # gRPC sends the tf.Examples the body converts to.
        grpc_requests.append(BuiltRequest(api, f"{api} grpc batch {batch}", body, GRPC))
    return SignaturePlan(name, requests, grpc_requests=grpc_requests)
