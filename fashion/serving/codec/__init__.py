"""TF Serving's REST bodies: JSON in, tensors and protos across, JSON out, byte for byte.

Owns reading bodies as rapidjson does (with orjson and python-rapidjson, and ijson for very deep
bodies), predict requests to tensors and tensors to responses (``json_tensor.cc``),
``tf.Example`` requests and classify/regress results, and status/metadata JSON (protobuf's
printer). Knows nothing of HTTP, models or sessions. May import ``status`` only.
"""

__all__ = [
    "dense_body",
    "examples_request",
    "examples_response",
    "json_census",
    "json_document",
    "json_numbers",
    "json_tensor",
    "json_writer",
    "predict_request",
    "predict_response",
    "proto_json",
    "request_object",
    "utf8_stand_in",
]
