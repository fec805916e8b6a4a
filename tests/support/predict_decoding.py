"""Decode predict bodies the way the stand-in's REST handler does, for the codec's tests.

``HALF_PLUS_TWO`` is the input map of TF Serving's test model ``half_plus_two`` (one float input
``x``), the default signature of these helpers.
"""

from __future__ import annotations

import numpy as np

from fashion.serving.codec.predict_request import DecodedInputs, decode_inputs, read_predict_request
from fashion.serving.status import ServingStatusError
from tests.support.status_errors import invalid_argument, status_error

__all__ = ["HALF_PLUS_TWO", "decode", "error", "invalid", "only"]

#: The signature inputs of ``half_plus_two``: input name -> dtype name.
HALF_PLUS_TWO = {"x": "float"}


def decode(body: bytes | str, inputs: dict[str, str] | None = None) -> DecodedInputs:
    """Read ``body`` and convert it for a signature with ``inputs`` (default: half_plus_two)."""
    raw = body.encode() if isinstance(body, str) else body
    return decode_inputs(read_predict_request(raw), HALF_PLUS_TWO if inputs is None else inputs)


def error(body: bytes | str, inputs: dict[str, str] | None = None) -> ServingStatusError:
    """The error decoding ``body`` raises (the test fails if it raises none)."""
    return status_error(decode, body, inputs)


def invalid(body: bytes | str, inputs: dict[str, str] | None = None) -> str:
    """The message of the INVALID_ARGUMENT (HTTP 400) decoding ``body`` raises."""
    return invalid_argument(decode, body, inputs)


def only(decoded: DecodedInputs) -> np.ndarray:
    """The one tensor of a single-input request."""
    (tensor,) = decoded.tensors.values()
    return tensor
