"""The values requests carry: seeded, of each input's dtype, and what a string input must hold.

Numbers are small (integers below 4: valid indices into any embedding table or vocabulary of 4
or more), strings are words, and each request's generator is seeded from ``--seed`` and the
request's place, so a check asks the same thing every time. A string input the graph parses as
``tf.Example`` s (TFX and Estimator exports' predict signatures) gets serialised examples with
the features it reads, and one it decodes as images gets encoded images in the format its
decoder reads (:func:`string_fillers`): seeded words would only fail to parse. JSON carries
those bytes as ``{"b64": ...}`` (:func:`json_values`).
"""

from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from fashion.check.example_features import Feature, example_features
from fashion.check.graph_flow import first_reached

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

    from fashion.check.options import CheckOptions

__all__ = [
    "GRPC_ONLY_DTYPES",
    "IMAGE_SIZE",
    "JSON_DTYPES",
    "Filler",
    "feature_values",
    "json_values",
    "seeded_array",
    "seeded_rng",
    "string_fillers",
    "tensor_values",
]

#: Makes an input's values of a shape from a seeded generator.
Filler = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]

_FLOATS = {"float": np.float32, "double": np.float64}
_INTEGERS = {
    name: getattr(np, name) for name in ("int8", "int16", "int32", "int64", "uint8", "uint32")
} | {"uint64": np.uint64}
# Small values: they are valid indices into any embedding table or vocabulary of 4 or more.
_INT_HIGH = 4
#: Height and width of the images sent to an input the graph decodes as images.
IMAGE_SIZE = (32, 32)
#: The decoders this check can feed, and the ``tf.io`` encoder of a format each reads.
_IMAGE_FORMATS = {
    "DecodeImage": "encode_png",
    "DecodePng": "encode_png",
    "DecodeJpeg": "encode_jpeg",
    "DecodeAndCropJpeg": "encode_jpeg",
}
#: The dtypes TF Serving's JSON API converts.
JSON_DTYPES = frozenset({*_FLOATS, *_INTEGERS, "bool", "string"})
# Dtypes TF Serving's JSON API has no conversion for, which a TensorProto carries.
_GRPC_ONLY_FLOATS = ("half", "bfloat16")
_GRPC_ONLY_COMPLEX = {"complex64": np.complex64, "complex128": np.complex128}
GRPC_ONLY_DTYPES = frozenset({*_GRPC_ONLY_FLOATS, *_GRPC_ONLY_COMPLEX, "uint16"})


def seeded_rng(options: CheckOptions, *parts: object) -> np.random.Generator:
    """The generator of one request's values: ``--seed`` and the request's place."""
    return np.random.default_rng(
        [options.seed, *(zlib.crc32(str(part).encode()) for part in parts)]
    )


def string_fillers(
    signature: meta_graph_pb2.SignatureDef, meta_graph: meta_graph_pb2.MetaGraphDef
) -> dict[str, Filler]:
    """How to fill each string input that must carry examples or images, by input alias."""
    from tensorflow.core.framework import types_pb2

    fillers: dict[str, Filler] = {}
    for alias, info in signature.inputs.items():
        if info.dtype != types_pb2.DT_STRING:
            continue
        features = example_features(meta_graph, info.name)
        if features is not None:
            fillers[alias] = lambda shape, rng, f=features: _serialized_examples(f, shape, rng)
            continue
        found = first_reached(meta_graph, info.name, _IMAGE_FORMATS)
        if found is not None:
            decoder = found[1].op
            fillers[alias] = lambda shape, rng, d=decoder: _encoded_images(d, shape, rng)
    return fillers


def seeded_array(
    dtype: str, shape: tuple[int, ...], rng: np.random.Generator, label: str
) -> np.ndarray:
    """Seeded values of a dtype (strings as ``str``)."""
    if dtype in _FLOATS:
        return rng.random(shape).astype(_FLOATS[dtype])
    if dtype in _INTEGERS:
        return rng.integers(0, _INT_HIGH, shape).astype(_INTEGERS[dtype])
    if dtype == "bool":
        return rng.integers(0, 2, shape) == 1
    if dtype in _GRPC_ONLY_FLOATS:
        return rng.random(shape).astype(_numpy_dtype(dtype))
    if dtype in _GRPC_ONLY_COMPLEX:
        real, imaginary = rng.random(shape), rng.random(shape)
        return (real + 1j * imaginary).astype(_GRPC_ONLY_COMPLEX[dtype])
    if dtype == "uint16":
        return rng.integers(0, _INT_HIGH, shape).astype(np.uint16)
    count = math.prod(shape)
    words = np.array([f"{label}-{rng.integers(0, 1000)}" for _ in range(count)], dtype=object)
    return words.reshape(shape)


def _numpy_dtype(dtype: str) -> Any:
    """numpy's twin of a TensorFlow dtype name (``bfloat16`` is ml_dtypes', through TensorFlow)."""
    import tensorflow as tf

    return tf.as_dtype(dtype).as_numpy_dtype


def tensor_values(array: np.ndarray) -> np.ndarray:
    """A gRPC-only request's tensor: strings as bytes, as a TensorProto holds them."""
    if array.dtype == object:
        flat = [v if isinstance(v, bytes) else str(v).encode() for v in array.reshape(-1)]
        return np.array(flat, dtype=object).reshape(array.shape)
    return array


def feature_values(feature: Feature, rng: np.random.Generator) -> list[Any]:
    count = math.prod(feature.shape) if feature.kind == "dense" else 2
    if feature.dtype == "float":
        # Written with a fraction (json writes 1.0, never 1), so TF Serving makes a float feature.
        return [float(v) for v in rng.random(count).astype(np.float32)]
    if feature.dtype == "int64":
        return [int(v) for v in rng.integers(0, _INT_HIGH, count)]
    return [f"{feature.key}-{rng.integers(0, 1000)}" for _ in range(count)]


def _serialized_examples(
    features: list[Feature], shape: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """Serialised ``tf.Example`` s with seeded values of ``features``, one per element."""
    from fashion.clients.grpc_messages import as_tf_example

    def example() -> bytes:
        values = {feature.key: feature_values(feature, rng) for feature in features}
        return as_tf_example(values).SerializeToString()

    return _each(shape, example)


def _encoded_images(decoder: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Seeded RGB images of :data:`IMAGE_SIZE`, encoded in the format ``decoder`` reads."""
    import tensorflow as tf

    encode = getattr(tf.io, _IMAGE_FORMATS[decoder])
    return _each(
        shape, lambda: encode(rng.integers(0, 256, (*IMAGE_SIZE, 3)).astype(np.uint8)).numpy()
    )


def _each(shape: tuple[int, ...], make: Callable[[], bytes]) -> np.ndarray:
    """An object array of ``shape`` whose elements ``make`` makes, one call each."""
    made = np.empty(math.prod(shape), dtype=object)
    for index in range(made.size):
        made[index] = make()
    return made.reshape(shape)


def json_values(value: Any) -> Any:
    """Nested values as TF Serving's JSON carries them: bytes as ``{"b64": ...}``."""
    if isinstance(value, list):
        return [json_values(item) for item in value]
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    return value
