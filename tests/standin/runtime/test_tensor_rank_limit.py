"""Tensors with more dimensions than numpy can hold: refused as a bad input, never a crash.

TensorFlow allows 254 dimensions (``TensorShape::MaxDimensions``), numpy 64 (32 before numpy 2).
The stand-in's tensors are numpy arrays, so a request tensor between the two is refused with
INVALID_ARGUMENT ``tensor parsing error: {alias}``: a documented deviation (docs/stand-in.md),
where the real server would parse it and let the graph decide.
"""

from __future__ import annotations

import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2, types_pb2

from fashion.serving.runtime.tensor_proto import tensor_from_proto
from fashion.serving.status import Code, ServingStatusError


def _ones(rank: int, *, as_content: bool) -> tensor_pb2.TensorProto:
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
    if as_content:
        proto.tensor_content = np.float32(1).tobytes()
    else:
        proto.float_val.append(1.0)
    for _ in range(rank):
        proto.tensor_shape.dim.add(size=1)
    return proto


def _numpy_max_rank() -> int:
    rank = 1
    while True:
        try:
            np.empty((1,) * (rank + 1))
        except ValueError:
            return rank
        rank += 1


@pytest.mark.parametrize("as_content", [False, True], ids=["typed", "tensor_content"])
def test_numpys_largest_rank_parses(as_content: bool) -> None:
    rank = _numpy_max_rank()
    assert tensor_from_proto(_ones(rank, as_content=as_content), "x").shape == (1,) * rank


@pytest.mark.parametrize("as_content", [False, True], ids=["typed", "tensor_content"])
@pytest.mark.parametrize("extra", [1, 254 - 64])
def test_more_dimensions_than_numpy_holds_are_invalid_argument(
    as_content: bool, extra: int
) -> None:
    proto = _ones(_numpy_max_rank() + extra, as_content=as_content)
    with pytest.raises(ServingStatusError) as raised:
        tensor_from_proto(proto, "x")
    assert raised.value.code is Code.INVALID_ARGUMENT
    assert raised.value.message == "tensor parsing error: x"
