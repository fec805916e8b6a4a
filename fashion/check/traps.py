"""Known traps of the TF 2.x serving path: how to recognise each, why it bites, and the fix.

Warnings (they do not fail a check): an input named ``keras_tensor`` (Keras 3's ``model.export``
default), no ``serving_default`` signature, outputs without a batch dimension. The failure with
an explanation: a Keras 3 model saved with ``tf.saved_model.save(model, path)`` loads in TF
Serving and then fails every predict with ``Could not find variable ...``
(tensorflow/serving#2250, keras-team/keras#20095); it is recognised by that error together with
the shape of such exports, a Keras 3 layer object at the root of the SavedModel's object graph.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fashion.check.report import CheckRow, Result
from fashion.check.request_builder import INIT_OP_SIGNATURE

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

__all__ = [
    "KERAS3_SAVED_MODEL_TRAP",
    "Explanation",
    "explain_run_failure",
    "is_keras3_model_saved_directly",
    "python_explanation",
    "python_ops",
    "same_failure",
    "signature_warnings",
]

#: The check name of the Keras 3 trap's row.
KERAS3_SAVED_MODEL_TRAP = "Keras 3 export trap"
#: TensorFlow refuses a tensor both fed and fetched (``subgraph.cc``); TF Serving passes it on.
_FED_AND_FETCHED = " is both fed and fetched"
#: Ops that call a Python function (``script_ops``): registered in TensorFlow's C++ core,
#: with kernels only in its Python package.
_PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
_KERAS_TENSOR = re.compile(r"^keras_tensor(_\d+)?$")
_MISSING_VARIABLE = "Could not find variable"
# Attributes every Keras 3 Layer tracks; tf.saved_model.save writes them as children of the root
# object when the model itself is saved (model.export and fashion.export save a tf.Module).
_KERAS3_LAYER_CHILDREN = frozenset({"call_signature_parameters", "_inbound_nodes"})
_DTYPES = {1: "tf.float32", 2: "tf.float64", 3: "tf.int32", 7: "tf.string", 9: "tf.int64"}


@dataclass(frozen=True)
class Explanation:
    """Why a run failed and how to fix it.

    Attributes:
        trap: the check name of a recognised trap, or "" for a general hint.
        text: the explanation and the fix (lines indented by four spaces are code).
    """

    trap: str
    text: str


def signature_warnings(
    version: int, signatures: Mapping[str, meta_graph_pb2.SignatureDef]
) -> list[CheckRow]:
    """The WARN rows for one version's signatures."""
    serving = {k: v for k, v in signatures.items() if k != INIT_OP_SIGNATURE}
    rows = []
    if serving and "serving_default" not in serving:
        rows.append(
            CheckRow(
                "",
                "serving_default",
                Result.WARN,
                version,
                detail=f"no serving_default signature (found: {', '.join(sorted(serving))}). "
                "Requests without signature_name, the usual client call, fail: over REST with "
                "'Serving signature name: \"serving_default\" not found in signature def', over "
                'gRPC with FAILED_PRECONDITION \'Serving signature key "serving_default" not '
                "found.'. Export the main signature as serving_default: "
                "tf.saved_model.save(obj, path, signatures={'serving_default': ...}).",
            )
        )
    for name, signature in sorted(serving.items()):
        for alias in sorted(signature.inputs):
            if _KERAS_TENSOR.match(alias):
                rows.append(_keras_tensor_row(version, name, alias))
        for alias in sorted(signature.outputs):
            row = _batch_dimension_row(version, name, alias, signature.outputs[alias])
            if row is not None:
                rows.append(row)
    return rows


def _keras_tensor_row(version: int, name: str, alias: str) -> CheckRow:
    return CheckRow(
        name,
        "input names",
        Result.WARN,
        version,
        detail=f"input {alias!r} is the name Keras 3's model.export gives an unnamed input: "
        "every client must send it under that name, and it changes with how the model was built "
        "(keras_tensor, keras_tensor_3, ...). Name the input (keras.Input(shape, name='images')) "
        "or export a tf.function with a named tf.TensorSpec, as fashion.export.export_version "
        "does.",
    )


def _batch_dimension_row(
    version: int, name: str, alias: str, info: meta_graph_pb2.TensorInfo
) -> CheckRow | None:
    shape = info.tensor_shape
    if not info.HasField("tensor_shape") or shape.unknown_rank:
        return None
    dims = [int(d.size) for d in shape.dim]
    if dims and dims[0] == -1:
        return None
    what = "shape [] (a scalar)" if not dims else f"first dimension {dims[0]}, not -1"
    return CheckRow(
        name,
        "outputs: batch dimension",
        Result.WARN,
        version,
        detail=f"output {alias!r} is declared with {what}: it has no batch dimension. Row-format "
        f"answers (instances) cannot carry it (TF Serving fails them: 'Tensor name: {alias} has "
        "no shape information' or 'inconsistent batch size'), and one value answers the whole "
        "batch. Give it a leading batch dimension (-1), or call the signature with columnar "
        "inputs.",
    )


def same_failure(mine: str, theirs: str) -> bool:
    """Whether two runs failed the same way: the same text, or both missing variables.

    A graph whose variables are missing fails on whichever read runs first, and TensorFlow runs
    independent reads in parallel: two runs of the same request may name different variables.
    """
    return mine == theirs or (_MISSING_VARIABLE in mine and _MISSING_VARIABLE in theirs)


def is_keras3_model_saved_directly(meta_graph: meta_graph_pb2.MetaGraphDef) -> bool:
    """Whether the SavedModel's root object is a Keras 3 layer (``tf.saved_model.save(model)``)."""
    nodes = meta_graph.object_graph_def.nodes
    if not nodes:
        return False
    children = {child.local_name for child in nodes[0].children}
    return children >= _KERAS3_LAYER_CHILDREN


def explain_run_failure(
    error: str, meta_graph: meta_graph_pb2.MetaGraphDef, signature: meta_graph_pb2.SignatureDef
) -> Explanation | None:
    """The explanation and fix for a run error that is a known trap, or None."""
    python = python_ops(meta_graph)
    if python:
        return Explanation("", python_explanation(python))
    if _FED_AND_FETCHED in error:
        return _fed_and_fetched_explanation(signature)
    if _MISSING_VARIABLE not in error:
        return None
    if is_keras3_model_saved_directly(meta_graph):
        return Explanation(KERAS3_SAVED_MODEL_TRAP, _keras3_explanation(error, signature))
    return Explanation(
        "",
        "A variable the graph reads was never restored when the SavedModel was loaded with the "
        "session loader TF Serving uses (the graph reads it by a name nothing restores). Save a "
        "tf.Module that tracks the serving function's own variables (concrete.variables), as "
        "fashion.export.export_version does.",
    )


def python_ops(meta_graph: meta_graph_pb2.MetaGraphDef) -> list[str]:
    """The ops in the graph or its functions that call back into Python, by op name."""
    nodes = [*meta_graph.graph_def.node]
    for function in meta_graph.graph_def.library.function:
        nodes += function.node_def
    return sorted({node.op for node in nodes if node.op in _PYTHON_OPS})


def python_explanation(ops: list[str]) -> str:
    """Why a graph that calls Python cannot serve, and what to do."""
    return (
        f"The graph calls Python ({', '.join(ops)}: tf.py_function, tf.numpy_function or "
        "tf.compat.v1.py_func). Such an op runs a function that lives only in the Python "
        "process that built the graph. TF Serving's C++ server has no kernel for it: it fails "
        "to load a graph that holds one outside a function (a TF1 graph), and fails every "
        "request that reaches one inside a function (a TF2 export). A Python process that "
        "loads the SavedModel cannot find the function either. Write that step with "
        "TensorFlow ops."
    )


def _fed_and_fetched_explanation(signature: meta_graph_pb2.SignatureDef) -> Explanation:
    fed = {info.name: alias for alias, info in signature.inputs.items()}
    both = [
        f"{alias!r} is input {fed[info.name]!r} ({info.name})"
        for alias, info in sorted(signature.outputs.items())
        if info.name in fed
    ]
    return Explanation(
        "",
        f"The signature's output {' and '.join(both) or 'is one of its inputs'}: TensorFlow "
        "refuses to fetch a tensor that the same run feeds (subgraph.cc), so TF Serving fails "
        "every request to this signature. Export such an output through tf.identity, so that "
        "it is a tensor of its own.",
    )


def _keras3_explanation(error: str, signature: meta_graph_pb2.SignatureDef) -> str:
    variable = error.split(_MISSING_VARIABLE, 1)[1].split(".")[0].strip() or "dense/bias"
    specs = []
    for alias in sorted(signature.inputs):
        info = signature.inputs[alias]
        shape = (
            "None"
            if info.tensor_shape.unknown_rank
            else "["
            + ", ".join("None" if d.size < 0 else str(d.size) for d in info.tensor_shape.dim)
            + "]"
        )
        dtype = _DTYPES.get(info.dtype, "tf.float32")
        specs.append((alias, f'tf.TensorSpec({shape}, {dtype}, name="{alias}")'))
    outputs = sorted(signature.outputs) or ["output_0"]
    arguments = ", ".join(alias for alias, _ in specs)
    result = (
        f'{{"{outputs[0]}": model({arguments}, training=False)}}'
        if len(specs) == 1
        else f'{{"{outputs[0]}": model([{arguments}], training=False)}}'
    )
    return "\n".join(
        [
            "A Keras 3 model saved with tf.saved_model.save(model, path): TF Serving loads it (the "
            "version is "
            "AVAILABLE), then every predict fails with FAILED_PRECONDITION 'Could not find "
            f"variable {variable}' (tensorflow/serving#2250).",
            "Cause: the saved functions read each Keras 3 weight through a variable handle named "
            f"after its layer ({variable}), while the checkpoint is restored into the variables "
            "the SavedModel tracks, under other names. tf.saved_model.load links the two through "
            "the object graph; TF Serving's session loader restores by name only, so the "
            "variables the functions read never get a value.",
            "Fix: save a tf.Module that tracks the serving function's own variables. "
            "fashion.export.export_version(model, base_path, version) does this for the "
            "Fashion-MNIST models (input images, output probabilities); for this model, keeping "
            "its signature:",
            "    import tensorflow as tf",
            "",
            f"    @tf.function(input_signature=[{', '.join(spec for _, spec in specs)}])",
            f"    def serve({arguments}):",
            f"        return {result}",
            "",
            "    concrete = serve.get_concrete_function()",
            "    module = tf.Module()",
            "    module.serving_variables = list(concrete.variables)",
            "    module.serve = serve",
            '    tf.saved_model.save(module, "BASE/1", signatures={"serving_default": concrete})',
        ]
    )
