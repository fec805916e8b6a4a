"""Classify/regress request bodies to serialised ``tf.train.Example`` s (``json_tensor.cc``).

TF Serving reads the whole body before it looks the model up
(``FillClassifyRegressRequestFromJson``), so every body error here wins over a 404. Each
example object becomes a ``tf.train.Example``: strings and b64 objects become bytes features,
numbers with a fraction or exponent float features, integers and booleans int64 features.
With a ``context`` object the model receives the serialised context followed by the
serialised example, i.e. their proto merge, in which the example's features override the
context's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.message import Message
from tensorflow.core.example import example_pb2, feature_pb2

from fashion.serving.codec.json_document import (
    json_type_name,
    members,
    utf8_bytes,
)
from fashion.serving.codec.json_tensor import decode_base64, is_base64_object
from fashion.serving.codec.json_writer import debug_json
from fashion.serving.codec.predict_request import read_request_object
from fashion.serving.status import Code, ServingStatusError

__all__ = ["ExamplesRequest", "read_examples_request"]

_MISSING = object()
_INT64_END = 1 << 63


@dataclass(frozen=True)
class ExamplesRequest:
    """A classify/regress body converted to what the model is fed.

    Attributes:
        signature_name: as sent; ``""`` when absent (``""`` means ``serving_default``).
        examples: one serialised ``tf.train.Example`` per JSON example, context merged in.
    """

    signature_name: str
    examples: list[bytes]

    @property
    def signature_key(self) -> str:
        """The signature to look up: ``serving_default`` unless one was named."""
        return self.signature_name or "serving_default"


def read_examples_request(body: bytes) -> ExamplesRequest:
    """Parse and convert a classify/regress body (``FillClassifyRegressRequestFromJson``).

    Raises:
        ServingStatusError: INVALID_ARGUMENT with TF Serving's texts.
    """
    document, signature_name = read_request_object(body)
    root = document.root
    prefix = b""
    context = root.get("context", _MISSING)
    if context is not _MISSING:
        prefix = _serialized_example(context)
    examples = root.get("examples", _MISSING)
    if examples is _MISSING:
        raise _invalid(
            f"JSON Value: {debug_json(root)} When method is classify, key 'examples' is expected "
            "and was not found"
        )
    if not isinstance(examples, list):
        raise _invalid(
            f"JSON Value: {debug_json(root)} Expecting 'examples' value to be an list/array"
        )
    if not examples:
        raise _invalid(f"JSON Value: {debug_json(root)} 'examples' value is an empty array")
    serialized = [prefix + _serialized_example(item) for item in examples]
    return ExamplesRequest(signature_name, serialized)


def _serialized_example(value: Any) -> bytes:
    """``MakeExampleFromJsonObject``; a later member of the same name replaces an earlier one.

    A feature name that is not valid UTF-8 (the body's own bytes) is kept as those bytes, as
    TF Serving's C++ map keeps it; Python's protobuf refuses such a ``string`` key, so those
    features are serialised through a ``bytes``-keyed twin of the map and merged in on the wire.
    """
    if not isinstance(value, dict):
        raise _invalid(f"Example must be JSON object but got JSON {json_type_name(value)}")
    example = example_pb2.Example()
    features = example.features.feature
    byte_named: dict[bytes, feature_pb2.Feature] = {}
    for name, content in members(value):
        builder = _FeatureBuilder(name)
        if isinstance(content, list):
            for item in content:
                builder.add(item)
        else:
            builder.add(content)
        key = utf8_bytes(name)
        try:
            key.decode("utf-8")
        except UnicodeDecodeError:
            byte_named[key] = builder.feature()
        else:
            features[name].CopyFrom(builder.feature())
    serialized = example.SerializeToString(deterministic=True)
    return serialized + _serialized_byte_named(byte_named) if byte_named else serialized


# tf.Example's wire twin: the same field numbers, map entries written out with a bytes key.
_BYTE_NAMED_EXAMPLE_PROTO = """
name: "fashion/byte_named_example.proto"
package: "fashion.stand_in"
syntax: "proto3"
dependency: "tensorflow/core/example/feature.proto"
message_type {
  name: "ByteNamedFeature"
  field { name: "key" number: 1 type: TYPE_BYTES label: LABEL_OPTIONAL }
  field { name: "value" number: 2 type: TYPE_MESSAGE label: LABEL_OPTIONAL
          type_name: ".tensorflow.Feature" }
}
message_type {
  name: "ByteNamedFeatures"
  field { name: "feature" number: 1 type: TYPE_MESSAGE label: LABEL_REPEATED
          type_name: ".fashion.stand_in.ByteNamedFeature" }
}
message_type {
  name: "ByteNamedExample"
  field { name: "features" number: 1 type: TYPE_MESSAGE label: LABEL_OPTIONAL
          type_name: ".fashion.stand_in.ByteNamedFeatures" }
}
"""


@functools.cache
def _byte_named_example_class() -> type[Message]:
    """The message class of ``_BYTE_NAMED_EXAMPLE_PROTO``'s ``ByteNamedExample``."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(feature_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(text_format.Parse(_BYTE_NAMED_EXAMPLE_PROTO, descriptor_pb2.FileDescriptorProto()))
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("fashion.stand_in.ByteNamedExample")
    )


def _serialized_byte_named(features: dict[bytes, feature_pb2.Feature]) -> bytes:
    """The map entries of ``features``, as an Example that parses into the same map."""
    example = _byte_named_example_class()()
    for key, feature in features.items():
        entry = example.features.feature.add(key=key)
        entry.value.MergeFromString(feature.SerializeToString())
    return example.SerializeToString(deterministic=True)


class _FeatureBuilder:
    """``AddValueToFeature``: the first value fixes the feature's kind."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kind: str | None = None
        self.values: list[Any] = []

    def add(self, value: Any) -> None:
        name = self.name
        kind_name = json_type_name(value)
        if kind_name in ("Null", "Array"):
            raise _invalid(f"Feature: {name} has element with unexpected JSON type: {kind_name}")
        if kind_name in ("True", "False"):
            self._expect("int64")
            self.values.append(1 if value else 0)
        elif kind_name == "Object":
            if not is_base64_object(value):
                raise _invalid(f"Feature: {name} has element with unexpected JSON type: Object")
            self._expect("bytes")
            self.values.append(decode_base64(value))
        elif kind_name == "String":
            self._expect("bytes")
            self.values.append(utf8_bytes(value))
        elif isinstance(value, float):
            self._expect("float")
            with np.errstate(over="ignore"):
                self.values.append(float(np.float32(value)))
        else:
            self._expect("int64")
            if value >= _INT64_END:
                raise _invalid(f"Feature: {name} has uint64_t element. Only int64_t is supported.")
            self.values.append(value)

    def _expect(self, kind: str) -> None:
        if self.kind is None:
            self.kind = kind
        elif self.kind != kind:
            raise _invalid(
                f"Unexpected element type in feature: {self.name} expecting type: {self.kind}"
            )

    def feature(self) -> feature_pb2.Feature:
        feature = feature_pb2.Feature()
        if self.kind == "bytes":
            feature.bytes_list.value.extend(self.values)
        elif self.kind == "float":
            feature.float_list.value.extend(self.values)
        elif self.kind == "int64":
            feature.int64_list.value.extend(self.values)
        return feature


def _invalid(message: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, message)
