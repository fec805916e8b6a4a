"""Which op a signature input reaches first: the graph's data flow, read from the MetaGraph.

What a string input must carry is written nowhere but in the graph: serialised ``tf.Example`` s
when it reaches a ``ParseExample`` node (:mod:`fashion.check.example_features`), encoded images
when it reaches a ``DecodeJpeg`` or ``DecodeImage`` node. The walk goes only through ops that
keep the strings as they are (identities, reshapes, slices, the lists ``tf.map_fn`` makes):
after a ``DecodeBase64`` or a ``ReadFile`` the input holds something else. TF2 exports keep
their ops in the function library, called by ``(Stateful)PartitionedCall`` nodes, ``tf.map_fn``
puts the decoding into a ``While`` loop's body and ``tf.cond`` into an ``If`` node's branches;
the walk follows an input into each, by argument position. No TensorFlow runtime: protos only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tensorflow.core.framework import node_def_pb2
    from tensorflow.core.protobuf import meta_graph_pb2

__all__ = ["Scope", "first_reached"]

#: Ops that run functions on their inputs, the attributes that name them, and how many leading
#: inputs are not the functions' arguments: a call passes its inputs as the function's
#: arguments, a while loop its loop variables as the body's, a conditional all but its
#: condition as each branch's.
_FUNCTION_ATTRS = {
    "PartitionedCall": (("f",), 0),
    "StatefulPartitionedCall": (("f",), 0),
    "While": (("body",), 0),
    "StatelessWhile": (("body",), 0),
    "If": (("then_branch", "else_branch"), 1),
    "StatelessIf": (("then_branch", "else_branch"), 1),
}
#: Ops whose outputs hold the very strings of their inputs, rearranged: the walk goes on
#: through them. Anything else (``DecodeBase64``, ``ReadFile``, ``Substr``, ...) makes other
#: strings, so what its input must hold is not what the op further on reads.
_PASS_THROUGH = frozenset(
    {
        "Identity",
        "IdentityN",
        "Reshape",
        "ExpandDims",
        "Squeeze",
        "StridedSlice",
        "Slice",
        "GatherV2",
        "Unpack",
        "Pack",
        "ConcatV2",
        "TensorListFromTensor",
        "TensorListGetItem",
        "TensorListStack",
        "TensorArrayScatterV3",
        "TensorArrayReadV3",
        "TensorArrayGatherV3",
        *_FUNCTION_ATTRS,
    }
)


class Scope:
    """The nodes of the graph or of one function, with who consumes what."""

    def __init__(self, nodes: Sequence[node_def_pb2.NodeDef]) -> None:
        self.nodes = {node.name: node for node in nodes}
        self.consumers: dict[str, list[tuple[Any, int]]] = {}
        for node in nodes:
            for index, source in enumerate(node.input):
                if source.startswith("^"):
                    continue
                self.consumers.setdefault(source.split(":")[0], []).append((node, index))

    def constant(self, source: str) -> Any:
        """The value of the Const node behind an input, or None."""
        node = self.nodes.get(source.split(":")[0].lstrip("^"))
        if node is None or node.op != "Const":
            return None
        from tensorflow import make_ndarray

        return make_ndarray(node.attr["value"].tensor)


def first_reached(
    meta_graph: meta_graph_pb2.MetaGraphDef, input_tensor: str, ops: Collection[str]
) -> tuple[Scope, node_def_pb2.NodeDef] | None:
    """The first node of one of ``ops`` that the input's values flow into, and its scope.

    Args:
        meta_graph: the loaded MetaGraph.
        input_tensor: the signature input's tensor name (``tf_example:0``).
        ops: the op names looked for.

    Returns:
        The node nearest the input (breadth first), or None when the input reaches none.
    """
    functions = {f.signature.name: f for f in meta_graph.graph_def.library.function}
    scopes: dict[str, Scope] = {}
    main = Scope(meta_graph.graph_def.node)
    queue: deque[tuple[Scope, str]] = deque([(main, input_tensor.split(":")[0])])
    seen: set[tuple[int, str]] = set()
    while queue:
        scope, name = queue.popleft()
        if (id(scope), name) in seen:
            continue
        seen.add((id(scope), name))
        for node, index in scope.consumers.get(name, ()):
            if node.op in ops:
                return scope, node
            if node.op not in _PASS_THROUGH:
                continue
            attrs, skipped = _FUNCTION_ATTRS.get(node.op, ((), 0))
            for attr in attrs:
                called = node.attr[attr].func.name
                if called not in functions or index < skipped:
                    continue
                body = functions[called]
                if called not in scopes:
                    scopes[called] = Scope(body.node_def)
                arguments = body.signature.input_arg
                if index - skipped < len(arguments):
                    queue.append((scopes[called], arguments[index - skipped].name))
            queue.append((scope, node.name))
    return None
