"""Model status and metadata bodies, as TF Serving prints them with protobuf's JSON printer.

TF Serving answers ``GET /v1/models/{m}`` and ``.../metadata`` with protobuf's C++ JSON printer
(``http_rest_api_util.cc``: ``ToJsonString``): one-space indent, ``": "`` after keys, proto field
names, fields without presence always printed, int64 as strings, enum names, and a newline after the
last ``}``. The metadata body is glued together from two separately printed messages
(``http_rest_api_util.cc``).

Python's ``json_format`` gives the same values; this module fixes what it does differently: the
C++ printer lists a message's regular fields in declaration order and a set ``oneof`` member
after them (``"version"`` comes last in ``model_spec``, ``"name"`` last in a TensorInfo), and
map entries come in a fixed (here: sorted) order.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2

__all__ = ["encode_model_metadata", "encode_model_status", "message_dict", "message_json"]


def encode_model_status(response: get_model_status_pb2.GetModelStatusResponse) -> bytes:
    """The body of ``GET /v1/models/{m}[/versions/{v}]`` (``get_model_status_impl.cc``).

    TF Serving always fills ``status`` (``error_code: OK`` and an empty message for healthy
    versions), so it is printed even when the caller left it unset.
    """
    response_copy = get_model_status_pb2.GetModelStatusResponse()
    response_copy.CopyFrom(response)
    for version_status in response_copy.model_version_status:
        version_status.status.SetInParent()
    return message_json(response_copy).encode("utf-8")


def encode_model_metadata(
    model_name: str, version: int, signature_defs: Mapping[str, meta_graph_pb2.SignatureDef]
) -> bytes:
    """The body of ``GET /v1/models/{m}[/versions/{v}]/metadata`` (``get_model_metadata_impl.cc``).

    Args:
        model_name: the model name as requested.
        version: the resolved version (printed as a string).
        signature_defs: every signature of the servable, ``__saved_model_init_op`` included.
    """
    spec = model_pb2.ModelSpec(name=model_name)
    spec.version.value = version
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in signature_defs.items():
        signature_map.signature_def[key].CopyFrom(signature)
    text = (
        '{\n"model_spec":'
        + message_json(spec)
        + ',\n"metadata": {"signature_def": '
        + message_json(signature_map)
        + "}\n}\n"
    )
    return text.encode("utf-8")


def message_json(message: Message) -> str:
    """One message as the C++ printer writes it with whitespace, ending in a newline."""
    ordered = _in_printer_order(message_dict(message), message.DESCRIPTOR)
    return json.dumps(ordered, indent=1, ensure_ascii=False) + "\n"


def message_dict(message: Message) -> dict[str, Any]:
    """``MessageToDict`` as TF Serving prints its protos: proto field names, every field."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, **{_print_all_fields_keyword(): True}
    )


@functools.cache
def _print_all_fields_keyword() -> str:
    """protobuf 5+ renamed ``including_default_value_fields``."""
    parameters = inspect.signature(json_format.MessageToDict).parameters
    if "always_print_fields_with_no_presence" in parameters:
        return "always_print_fields_with_no_presence"
    return "including_default_value_fields"  # pragma: no cover - protobuf 4 (TF 2.15)


def _in_printer_order(value: dict[str, Any], descriptor: Descriptor) -> dict[str, Any]:
    """Reorder a ``MessageToDict`` result: regular fields first, then set oneof members."""
    fields = [f for f in descriptor.fields if f.containing_oneof is None]
    fields += sorted(
        (f for f in descriptor.fields if f.containing_oneof is not None), key=lambda f: f.number
    )
    ordered: dict[str, Any] = {}
    for field in fields:
        if field.name not in value:
            continue
        item = value[field.name]
        message_type = field.message_type
        if message_type is not None and message_type.GetOptions().map_entry:
            entry_type = message_type.fields_by_name["value"].message_type
            item = {key: _nested(item[key], entry_type) for key in sorted(item)}
        elif message_type is not None and isinstance(item, list):
            item = [_nested(x, message_type) for x in item]
        elif message_type is not None:
            item = _nested(item, message_type)
        ordered[field.name] = item
    return ordered


def _nested(value: Any, descriptor: Descriptor | None) -> Any:
    # Well-known wrappers print as bare values; only real messages are dicts here.
    if descriptor is None or not isinstance(value, dict):
        return value
    return _in_printer_order(value, descriptor)
