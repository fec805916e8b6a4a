"""The first step of every predict, classify and regress body: a JSON object, and its signature.

``http_rest_api_handler.cc`` parses each body with rapidjson, then ``json_tensor.cc``
(``FillPredictRequestFromJson``, ``FillClassifyRegressRequestFromJson``) checks that the root
is an object and that ``signature_name``, if present, is a string. These errors come before the
model is looked up, so they win over a 404.
"""

from __future__ import annotations

from fashion.serving.codec.json_document import JsonDocument, parse_json_document
from fashion.serving.codec.json_writer import debug_json
from fashion.serving.status import Code, ServingStatusError

__all__ = ["read_request_object"]

_MISSING = object()


def read_request_object(body: bytes) -> tuple[JsonDocument, str]:
    """Parse a predict/classify/regress body; check the object and ``signature_name``.

    Args:
        body: the raw request body.

    Returns:
        The document and the signature name (``""`` when absent).

    Raises:
        ServingStatusError: INVALID_ARGUMENT: rapidjson's parse errors, ``Is not object``,
            ``'signature_name' key must be a string value.``
    """
    document = parse_json_document(body)
    root = document.root
    if not isinstance(root, dict):
        raise ServingStatusError(
            Code.INVALID_ARGUMENT, f"JSON Value: {debug_json(root)} Is not object"
        )
    name = root.get("signature_name", _MISSING)
    if name is _MISSING:
        return document, ""
    if not isinstance(name, str):
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            f"JSON Value: {debug_json(root)} not formatted correctly. 'signature_name' key must "
            "be a string value.",
        )
    return document, name
