"""The dense road for ``{"instances": <numeric array>}`` bodies changes nothing observable.

The predict codec takes plain numeric arrays without building nested Python lists. These tests
hold it to the general path (orjson, census, element-wise checks), which the codec tests pin to
TF Serving's behaviour: same tensors bit for bit, same row/columnar format, same errors.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fashion.serving.codec import dense_body
from fashion.serving.codec import predict_request as tensor_codec
from fashion.serving.codec.predict_request import decode_inputs, read_predict_request
from fashion.serving.status import ServingStatusError

Outcome = tuple[Any, ...]


def _outcome(body: bytes, inputs: dict[str, str]) -> Outcome:
    try:
        request = read_predict_request(body)
        decoded = decode_inputs(request, inputs)
    except ServingStatusError as exc:
        return ("error", exc.code, exc.message)
    tensors = {
        name: (tensor.dtype.str, tensor.shape, tensor.tobytes() if tensor.dtype != object else
               tensor.tolist())
        for name, tensor in decoded.tensors.items()
    }  # fmt: skip
    return ("ok", request.signature_name, decoded.row_format, tensors)


def _general_outcome(body: bytes, inputs: dict[str, str]) -> Outcome:
    with mock.patch.object(tensor_codec, "recognise_dense_body", return_value=None):
        return _outcome(body, inputs)


def _took_dense_road(body: bytes) -> bool:
    return dense_body.recognise_dense_body(body) is not None


_INTEGERS = st.one_of(
    st.integers(-300, 300),
    st.sampled_from([2**31 - 1, 2**31, -(2**31), 2**63 - 1, 2**63, -(2**63), 2**64 - 1, 2**64]),
)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
_LEAVES = st.one_of(_INTEGERS, _FLOATS, st.sampled_from([0.0, -0.0, 0.5, 1e-5, 1.5e300]))
_DTYPES = st.sampled_from(["float", "double", "int32", "int64", "uint8", "int8", "bool", "string"])


@st.composite
def _dense_bodies(draw: st.DrawFn) -> bytes:
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    leaves = draw(st.lists(_LEAVES, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    for size in reversed(shape[1:]):
        leaves = [leaves[i : i + size] for i in range(0, len(leaves), size)]
    key = draw(st.sampled_from(["instances", "inputs"]))
    separators = draw(st.sampled_from([(", ", ": "), (",", ":"), (" ,\n", " :\t")]))
    array = json.dumps(leaves, separators=separators)
    name = draw(st.sampled_from(["", "head", "tail", "both"]))
    head = '"signature_name": "sig_1", ' if name in ("head", "both") else ""
    tail = ', "signature_name": "other"' if name in ("tail", "both") else ""
    return f'{draw(st.sampled_from(["", " ", chr(10)]))}{{{head}"{key}": {array}{tail}}} '.encode()


@settings(derandomize=True, max_examples=400, deadline=None)
@given(body=_dense_bodies(), dtype=_DTYPES, inputs=st.integers(1, 2))
def test_dense_bodies_decode_exactly_as_the_general_path(
    body: bytes, dtype: str, inputs: int
) -> None:
    signature = {"x": dtype} if inputs == 1 else {"a": dtype, "b": dtype}
    assert _outcome(body, signature) == _general_outcome(body, signature)


@settings(derandomize=True, max_examples=600, deadline=None)
@given(
    body=_dense_bodies(),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(list("[],0123456789.eE+- \n\"x")),
                  st.sampled_from(["insert", "replace", "delete"])),
        min_size=1, max_size=3,
    ),
)  # fmt: skip
def test_mutated_dense_bodies_decode_or_fail_exactly_as_the_general_path(
    body: bytes, edits: list[tuple[int, str, str]]
) -> None:
    data = bytearray(body)
    for position, char, how in edits:
        index = position % (len(data) + 1)
        if how == "insert":
            data[index:index] = char.encode()
        elif index < len(data):
            data[index : index + 1] = b"" if how == "delete" else char.encode()
    mutated = bytes(data)
    for signature in ({"x": "float"}, {"x": "int64"}):
        assert _outcome(mutated, signature) == _general_outcome(mutated, signature)


def test_a_typical_image_batch_takes_the_dense_road_and_becomes_float32() -> None:
    images = np.linspace(0, 1, 2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
    body = json.dumps({"instances": images.tolist()}).encode()
    assert _took_dense_road(body)
    decoded = decode_inputs(read_predict_request(body), {"images": "float"})
    assert decoded.row_format
    np.testing.assert_array_equal(decoded.tensors["images"], images)
    assert decoded.tensors["images"].dtype == np.float32


def test_signature_name_after_the_array_is_read_on_the_dense_road() -> None:
    body = b'{"inputs": [[1, 2]], "signature_name": "classify_x"}'
    assert _took_dense_road(body)
    request = read_predict_request(body)
    assert request.signature_name == "classify_x"
    assert not decode_inputs(request, {"x": "float"}).row_format


def test_signature_name_given_twice_keeps_the_first_as_rapidjson_does() -> None:
    body = b'{"signature_name": "first", "instances": [1.0], "signature_name": "second"}'
    assert not _took_dense_road(body)
    assert read_predict_request(body).signature_name == "first"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"instances": [[1][2]]}',
         "JSON Parse error: Missing a comma or ']' after an array element. at offset: 18"),
        (b'{"instances": [[1],2[]]}',
         "JSON Parse error: Missing a comma or ']' after an array element. at offset: 20"),
        (b'{"instances": [[0.5], [0e400]]}',
         "JSON Parse error: Number too big to be stored in double. at offset: 23"),
        (b'{"instances": [[1.0, 2.0], [3.0]]}',
         "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting "
         "tensor size: 2 but got: 1"),
    ],
)  # fmt: skip
def test_bodies_that_only_look_dense_keep_tf_servings_errors(body: bytes, message: str) -> None:
    assert not _took_dense_road(body)
    with pytest.raises(ServingStatusError) as caught:
        decode_inputs(read_predict_request(body), {"x": "float"})
    assert caught.value.message == message


def test_several_inputs_with_a_plain_list_keep_the_multiple_inputs_error() -> None:
    body = b'{"instances": [[1.0, 2.0]]}'
    assert _took_dense_road(body)
    with pytest.raises(ServingStatusError) as caught:
        decode_inputs(read_predict_request(body), {"a": "float", "b": "float"})
    assert caught.value.message == (
        "instances is a plain list, but expecting list of objects as multiple input tensors "
        "required as per tensorinfo_map"
    )
