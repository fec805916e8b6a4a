"""Variant outputs are fetched through a ``SerializeTensor`` node and written as TF Serving does.

TensorFlow's Python session cannot return a ``DT_VARIANT`` (``Tensorflow type 21 not
convertible to numpy dtype.``); TF Serving's C++ session can, and copies it into the response
(``predict_util.cc``: ``AsProtoField``, ``variant_val``; ``AsProtoTensorContent`` with
``--enable_serialization_as_tensor_content``). TensorFlow's own ``SerializeTensor`` kernel is
the reference for the content form.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2

from fashion.serving.runtime.example_inference import (
    SignatureRun,
    classification_results,
    regression_results,
)
from fashion.serving.runtime.session_callables import SessionCallables
from fashion.serving.runtime.tensor_proto import tensor_to_proto
from fashion.serving.runtime.variant_outputs import serialize_variant_outputs, variant_array
from fashion.serving.status import Code, ServingStatusError


@pytest.fixture
def session() -> Iterator[tf.compat.v1.Session]:
    """``one``: a TensorList of ``x`` (rank 0); ``two``: two of them stacked (rank 1)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None], name="x")
        shape = tf.constant(-1, tf.int32)
        one = tf.raw_ops.TensorListFromTensor(tensor=x, element_shape=shape, name="one")
        doubled = tf.raw_ops.TensorListFromTensor(tensor=2 * x, element_shape=shape)
        tf.stack([one, doubled], name="two")
    with tf.compat.v1.Session(graph=graph) as opened:
        yield opened


def _reference(session: tf.compat.v1.Session, name: str, x: list[float]) -> bytes:
    with session.graph.as_default():
        serialized = tf.raw_ops.SerializeTensor(tensor=session.graph.get_tensor_by_name(name))
    return session.run(serialized, {"x:0": x})


@pytest.mark.parametrize(("name", "shape"), [("one:0", ()), ("two:0", (2,))])
def test_a_fetched_variant_is_an_array_of_its_shape_holding_each_elements_data(
    session: tf.compat.v1.Session, name: str, shape: tuple[int, ...]
) -> None:
    callables = SessionCallables(session, serialize_variant_outputs(session.graph, [name, "x:0"]))
    [value] = callables.run(["x:0"], [np.array([1.0, 2.0], np.float32)], [name], 0)
    assert value.shape == shape
    elements = value.reshape(-1).tolist()
    assert {element.type_name for element in elements} == {"tensorflow::TensorList"}
    # A TensorList's data ends with its items: 1 and 2 for the first, 2 and 4 for the second.
    items = [[tf.make_ndarray(t).item() for t in element.tensors[-2:]] for element in elements]
    assert items == [[1.0, 2.0], [2.0, 4.0]][: len(elements)]


def test_only_variant_tensors_get_a_serializing_node(session: tf.compat.v1.Session) -> None:
    serialized = serialize_variant_outputs(session.graph, ["x:0", "one:0", "missing:0"])
    assert list(serialized) == ["one:0"]


@pytest.mark.parametrize("name", ["one:0", "two:0"])
def test_with_the_flag_a_variant_is_written_as_tensorflows_tensor_content(
    session: tf.compat.v1.Session, name: str
) -> None:
    reference = tensor_pb2.TensorProto.FromString(_reference(session, name, [1.0, 2.0]))
    array = variant_array(reference.SerializeToString())
    written = tensor_to_proto(array, as_content=True, variant=True)
    assert written == reference


@pytest.mark.parametrize("name", ["one:0", "two:0"])
def test_by_default_a_variant_is_written_to_variant_val_one_entry_per_element(
    session: tf.compat.v1.Session, name: str
) -> None:
    array = variant_array(_reference(session, name, [1.0, 2.0]))
    written = tensor_to_proto(array, variant=True)
    assert written.dtype == types_pb2.DT_VARIANT
    assert [dim.size for dim in written.tensor_shape.dim] == list(array.shape)
    assert not written.tensor_content
    assert list(written.variant_val) == array.reshape(-1).tolist()


def _variants(shape: tuple[int, ...]) -> np.ndarray:
    elements = np.empty(int(np.prod(shape)), dtype=object)
    for index in range(elements.size):
        elements[index] = tensor_pb2.VariantTensorDataProto(type_name="tensorflow::TensorList")
    return elements.reshape(shape)


@pytest.mark.parametrize(
    ("run", "outputs", "error"),
    [
        pytest.param(
            SignatureRun("c", "in", classes="classes"),
            {"classes": _variants((2, 3))},
            "Expected classes Tensor of DT_STRING. Got: DT_VARIANT",
            id="classes",
        ),
        pytest.param(
            SignatureRun("c", "in", scores="scores"),
            {"scores": _variants((2, 3))},
            "Expected scores Tensor of DT_FLOAT. Got: DT_VARIANT",
            id="scores",
        ),
    ],
)
def test_classify_names_a_variant_output_in_its_dtype_error(
    run: SignatureRun, outputs: dict[str, np.ndarray], error: str
) -> None:
    # classifier.cc's texts, DataType_Name of the run's tensor.
    with pytest.raises(ServingStatusError) as raised:
        classification_results(run, outputs, 2)
    assert (raised.value.code, raised.value.message) == (Code.INVALID_ARGUMENT, error)


def test_regress_names_a_variant_output_in_its_dtype_error() -> None:
    # regressor.cc's text (two spaces after the full stop).
    with pytest.raises(ServingStatusError) as raised:
        regression_results(SignatureRun("r", "in", outputs="y"), {"y": _variants((2,))}, 2)
    assert (raised.value.code, raised.value.message) == (
        Code.INVALID_ARGUMENT,
        "Expected output Tensor of DT_FLOAT.  Got: DT_VARIANT",
    )
