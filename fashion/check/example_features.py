"""The ``tf.Example`` features a signature's serialised-examples input is parsed into.

Classify and regress signatures take serialised ``tf.Example`` protos; which features they need
is written nowhere but in the graph, in the ``ParseExample`` (TF1 ``tf.parse_example``),
``ParseExampleV2`` (``tf.io.parse_example``) or ``ParseSingleExample`` node that reads the
input. This module reads the keys (constants), dtypes and dense shapes of the first such node
the input reaches (:func:`fashion.check.graph_flow.first_reached`). No TensorFlow runtime:
protos only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fashion.check.graph_flow import Scope, first_reached

if TYPE_CHECKING:
    from tensorflow.core.framework import node_def_pb2
    from tensorflow.core.protobuf import meta_graph_pb2

__all__ = ["Feature", "example_features"]

_PARSE_OPS = frozenset({"ParseExample", "ParseExampleV2", "ParseSingleExample"})
# DataType enum values (types.proto) a tf.Example feature can have.
_FEATURE_DTYPES = {1: "float", 9: "int64", 7: "string"}


@dataclass(frozen=True)
class Feature:
    """One feature the parser reads.

    Attributes:
        key: the feature's name in the ``tf.Example``.
        dtype: ``float``, ``int64`` or ``string``.
        kind: ``dense`` (fixed shape), ``sparse`` or ``ragged`` (any number of values).
        shape: a dense feature's shape per example (``[]`` for a scalar); empty otherwise.
    """

    key: str
    dtype: str
    kind: str
    shape: tuple[int, ...] = ()


def example_features(
    meta_graph: meta_graph_pb2.MetaGraphDef, input_tensor: str
) -> list[Feature] | None:
    """The features parsed from a graph tensor fed with serialised ``tf.Example`` s.

    Args:
        meta_graph: the loaded MetaGraph.
        input_tensor: the signature input's tensor name (``tf_example:0``).

    Returns:
        The features of the first parse node reading the input, or None when there is none or
        its keys are not constants.
    """
    found = first_reached(meta_graph, input_tensor, _PARSE_OPS)
    return _features(*found) if found is not None else None


def _types(node: node_def_pb2.NodeDef, attr: str) -> list[str]:
    return [_FEATURE_DTYPES.get(t, "float") for t in node.attr[attr].list.type]


def _shapes(node: node_def_pb2.NodeDef) -> list[tuple[int, ...]]:
    return [
        tuple(max(int(d.size), 1) for d in shape.dim)
        for shape in node.attr["dense_shapes"].list.shape
    ]


def _keys(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [k.decode() if isinstance(k, bytes) else str(k) for k in value.reshape(-1).tolist()]


def _features(scope: Scope, node: node_def_pb2.NodeDef) -> list[Feature] | None:
    inputs = [source for source in node.input if not source.startswith("^")]
    if node.op == "ParseSingleExample":
        dense_keys = [k.decode() for k in node.attr["dense_keys"].list.s]
        sparse_keys = [k.decode() for k in node.attr["sparse_keys"].list.s]
        ragged_keys: list[str] | None = []
    elif node.op == "ParseExample":
        n_sparse, n_dense = node.attr["Nsparse"].i, node.attr["Ndense"].i
        sparse = [_keys(scope.constant(s)) for s in inputs[2 : 2 + n_sparse]]
        dense = [_keys(scope.constant(s)) for s in inputs[2 + n_sparse : 2 + n_sparse + n_dense]]
        if any(k is None for k in [*sparse, *dense]):
            return None
        sparse_keys = [k for keys in sparse for k in keys or ()]
        dense_keys = [k for keys in dense for k in keys or ()]
        ragged_keys = []
    else:  # ParseExampleV2: one 1-D key tensor each
        sparse_keys_or_none = _keys(scope.constant(inputs[2]))
        dense_keys_or_none = _keys(scope.constant(inputs[3]))
        ragged_keys = _keys(scope.constant(inputs[4]))
        if sparse_keys_or_none is None or dense_keys_or_none is None or ragged_keys is None:
            return None
        sparse_keys, dense_keys = sparse_keys_or_none, dense_keys_or_none
    features = [
        Feature(key, dtype, "dense", shape)
        for key, dtype, shape in zip(
            dense_keys, _types(node, "Tdense"), _shapes(node), strict=False
        )
    ]
    features += [
        Feature(key, dtype, "sparse")
        for key, dtype in zip(sparse_keys, _types(node, "sparse_types"), strict=False)
    ]
    features += [
        Feature(key, dtype, "ragged")
        for key, dtype in zip(ragged_keys, _types(node, "ragged_value_types"), strict=False)
    ]
    return features
