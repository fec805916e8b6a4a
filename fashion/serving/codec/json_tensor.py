"""One JSON value to tensor values of a given dtype, as ``json_tensor.cc`` converts it.

This is ``FillTensorProto``/``AddValueToTensor`` of TF Serving's ``json_tensor.cc``: the value's
shape is read along the first item at each level, every list must match it, every leaf must be of
the JSON type the dtype accepts (integers within the dtype's range, ``true``/``false`` for bool,
strings or ``{"b64": ...}`` for string), and errors carry TF Serving's texts. The walk uses an
explicit stack (any depth). Lists the parser already converted into numpy arrays
(:meth:`JsonDocument.block`) are taken whole when their shape and every value pass the same checks,
so well-formed numeric tensors cost one numpy cast instead of a Python loop.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

import numpy as np

from fashion.serving.codec.json_document import (
    JsonDocument,
    json_type_name,
    member_count,
    utf8_bytes,
)
from fashion.serving.codec.json_writer import debug_json
from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "TensorBuilder",
    "block_as",
    "decode_base64",
    "dense_shape",
    "invalid",
    "is_array",
    "is_base64_object",
    "is_object",
    "value_to_tensor",
]

_MISSING = object()
_NUMPY_TYPES: dict[str, Any] = {
    "float": np.float32,
    "double": np.float64,
    "int32": np.int32,
    "int16": np.int16,
    "int8": np.int8,
    "uint8": np.uint8,
    "int64": np.int64,
    "uint32": np.uint32,
    "uint64": np.uint64,
    "bool": np.bool_,
    "string": object,
    "half": np.float16,
    "uint16": np.uint16,
    "complex64": np.complex64,
    "complex128": np.complex128,
}
# Integer ranges rapidjson's IsInt/IsInt64/IsUint/IsUint64 accept, per dtype.
_INT_RANGES = {
    "int32": (-(1 << 31), 1 << 31),
    "int16": (-(1 << 31), 1 << 31),
    "int8": (-(1 << 31), 1 << 31),
    "uint8": (-(1 << 31), 1 << 31),
    "int64": (-(1 << 63), 1 << 63),
    "uint32": (0, 1 << 32),
    "uint64": (0, 1 << 64),
}
_BASE64_SPACE = re.compile(r"[ \t\n\v\f\r]+")
_BASE64_SHAPE = re.compile(r"[A-Za-z0-9+/]*[=.]*")


def is_base64_object(value: Any) -> bool:
    """``{"b64": "<string>"}`` with no other member (``IsValBase64Object``)."""
    return (
        isinstance(value, dict)
        and member_count(value) == 1
        and isinstance(value.get("b64", _MISSING), str)
    )


def decode_base64(value: dict) -> bytes:
    """Decode a b64 object as absl ``Base64Unescape`` does (``json_tensor.cc``).

    Standard alphabet; ASCII whitespace anywhere is skipped; the data may be followed by ``=``
    or ``.`` padding, either none or exactly the amount the data length calls for.

    Raises:
        ServingStatusError: ``Unable to base64 decode``.
    """
    text = _BASE64_SPACE.sub("", value["b64"])
    if _BASE64_SHAPE.fullmatch(text) is None:
        raise invalid("Unable to base64 decode")
    data = text.rstrip("=.")
    padding = len(text) - len(data)
    remainder = len(data) % 4
    if remainder == 1 or (padding and padding != (4 - remainder) % 4):
        raise invalid("Unable to base64 decode")
    try:
        return base64.b64decode(data + "=" * ((4 - remainder) % 4))
    except binascii.Error:  # pragma: no cover - excluded by the checks above
        raise invalid("Unable to base64 decode") from None


class TensorBuilder:
    """Values of one input collected in document order, as TF Serving's TensorProto is."""

    def __init__(self, document: JsonDocument, dtype: str) -> None:
        self.document = document
        self.dtype = dtype
        self.chunks: list[np.ndarray] = []
        self.pending: list[Any] = []
        self.item_size: int | None = None
        self.shape: tuple[int, ...] = ()

    def add_instance(self, item: Any) -> None:
        """``AddInstanceItem``: convert one instance's value and compare it with the first one.

        Raises:
            ServingStatusError: the value does not convert, or its size or shape differs from
                the first instance's (``Expecting tensor size: ...``, ``Expecting shape ...``).
        """
        shape = dense_shape(item)
        size = self.fill(item, shape)
        if self.item_size is None:
            self.item_size, self.shape = size, shape
        elif self.item_size != size:
            raise invalid(f"Expecting tensor size: {self.item_size} but got: {size}")
        elif self.shape != shape:
            raise invalid(
                f"Expecting shape {_shape_text(self.shape)} but got: {_shape_text(shape)}"
            )

    def fill(self, value: Any, shape: tuple[int, ...]) -> int:
        """``FillTensorProto``: check ``value`` level by level against ``shape``; add leaves.

        Args:
            value: the JSON value of one instance (row format) or of the input (columnar).
            shape: its dense shape (:func:`dense_shape`), which every level must match.

        Returns:
            How many values were added.
        """
        rank = len(shape)
        count = 0
        stack: list[tuple[Any, int]] = [(value, 0)]
        while stack:
            node, level = stack.pop()
            if is_array(node):
                if level >= rank:
                    raise invalid(
                        f"Encountered list at unexpected level: {level} expected < {rank}"
                    )
                if len(node) != shape[level]:
                    raise invalid(
                        f"Encountered list at unexpected size: {len(node)} at level: {level} "
                        f"expected size: {shape[level]}"
                    )
                block = self.document.block(node)
                if block is not None and block.shape == shape[level:]:
                    converted = block_as(block, self.dtype)
                    if converted is not None:
                        self._flush()
                        self.chunks.append(converted.ravel())
                        count += converted.size
                        continue
                stack.extend((item, level + 1) for item in reversed(node))
                continue
            if level != rank:
                raise invalid(
                    f"JSON Value: {debug_json(node)} found at incorrect level: {level + 1} in the "
                    f"JSON DOM. Expected at level: {rank}"
                )
            self.pending.append(self._leaf(node))
            count += 1
        return count

    def _leaf(self, value: Any) -> Any:
        """``AddValueToTensor`` (and the b64 branch of ``FillTensorProto``) for one leaf."""
        dtype = self.dtype
        if is_object(value):
            if dtype != "string":
                raise _type_error(value, dtype)
            if not is_base64_object(value):
                raise invalid(
                    f"JSON Value: {debug_json(value)} not formatted correctly for base64 data"
                )
            return decode_base64(value)
        if dtype in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _type_error(value, dtype)
            return value
        bounds = _INT_RANGES.get(dtype)
        if bounds is not None:
            if type(value) is not int or not bounds[0] <= value < bounds[1]:
                raise _type_error(value, dtype)
            return value
        if dtype == "bool":
            if type(value) is not bool:
                raise _type_error(value, dtype)
            return value
        if dtype == "string":
            if not isinstance(value, str):
                raise _type_error(value, dtype)
            return utf8_bytes(value)
        raise ServingStatusError(
            Code.UNIMPLEMENTED, f"Conversion of JSON Value: {debug_json(value)} to type: {dtype}"
        )

    def _flush(self) -> None:
        if self.pending:
            self.chunks.append(_leaves_as(self.pending, self.dtype))
            self.pending = []

    def tensor(self, shape: tuple[int, ...]) -> np.ndarray:
        """The collected values as a tensor of ``shape``.

        Extra values (an instance object naming the same input twice adds its values twice)
        are dropped, as TensorFlow's ``Tensor::FromProto`` keeps only the first ones.

        Raises:
            ServingStatusError: INVALID_ARGUMENT for a rank numpy cannot hold (above 32 on
                numpy 1, 64 on numpy 2). TensorFlow would build the tensor (up to rank 254) and
                the model would then reject it with its own 400; the stand-in stops here.
        """
        limit = _max_numpy_rank()
        if len(shape) > limit:
            raise invalid(
                f"JSON value of rank {len(shape)}: the TF Serving stand-in does not convert "
                f"values of rank above {limit}"
            )
        self._flush()
        numpy_type = _NUMPY_TYPES.get(self.dtype, object)
        if not self.chunks:
            return np.zeros(shape, dtype=numpy_type)
        values = self.chunks[0] if len(self.chunks) == 1 else np.concatenate(self.chunks)
        return values[: math.prod(shape)].reshape(shape)


def value_to_tensor(document: JsonDocument, value: Any, dtype: str) -> np.ndarray:
    """One JSON value as a tensor of ``dtype``, as it stands (columnar format, no batching).

    Raises:
        ServingStatusError: with ``json_tensor.cc``'s texts.
    """
    whole = block_as(document.block(value), dtype)
    if whole is not None:
        return whole
    builder = TensorBuilder(document, dtype)
    shape = dense_shape(value)
    builder.fill(value, shape)
    return builder.tensor(shape)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _max_numpy_rank() -> int:
    """``NPY_MAXDIMS``: 64 since numpy 2.0, 32 before."""
    return 64 if int(np.__version__.split(".", 1)[0]) >= 2 else 32


def _leaves_as(values: list[Any], dtype: str) -> np.ndarray:
    """Checked leaves as a 1-D array of the input's numpy type (rapidjson's casts)."""
    if dtype == "string":
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    with np.errstate(over="ignore"):
        if dtype == "float":
            return np.array(values, dtype=np.float64).astype(np.float32)
        if dtype in ("int16", "int8", "uint8"):  # stored as int32, narrowed by TensorFlow
            return np.array(values, dtype=np.int32).astype(_NUMPY_TYPES[dtype])
        return np.array(values, dtype=_NUMPY_TYPES[dtype])


def block_as(block: np.ndarray | None, dtype: str) -> np.ndarray | None:
    """A census array converted to ``dtype`` when every leaf passes TF's check, else None."""
    if block is None:
        return None
    kind = block.dtype.kind
    if block.size == 0:
        return np.zeros(block.shape, dtype=_NUMPY_TYPES[dtype]) if dtype in _NUMPY_TYPES else None
    with np.errstate(over="ignore"):
        if dtype in ("float", "double"):
            if kind not in "fiu":
                return None
            wide = block if kind == "f" else block.astype(np.float64)
            return wide.astype(np.float32) if dtype == "float" else wide
        bounds = _INT_RANGES.get(dtype)
        if bounds is not None:
            if kind not in "iu" or int(block.min()) < bounds[0] or int(block.max()) >= bounds[1]:
                return None
            if dtype in ("int16", "int8", "uint8"):
                return block.astype(np.int32).astype(_NUMPY_TYPES[dtype])
            return block.astype(_NUMPY_TYPES[dtype])
        if dtype == "bool" and kind == "b":
            return block
    return None


def dense_shape(value: Any) -> tuple[int, ...]:
    """``GetDenseTensorShape``: lengths along the first item at each level."""
    dims: list[int] = []
    while is_array(value):
        dims.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(dims)


def is_array(value: Any) -> bool:
    """A JSON array."""
    return isinstance(value, list)


def is_object(value: Any) -> bool:
    """A JSON object."""
    return isinstance(value, dict)


def _type_error(value: Any, dtype: str) -> ServingStatusError:
    return invalid(
        f"JSON Value: {debug_json(value)} Type: {json_type_name(value)} is not of expected type: "
        f"{dtype}"
    )


def invalid(message: str) -> ServingStatusError:
    """An INVALID_ARGUMENT (400) error with TF Serving's message."""
    return ServingStatusError(Code.INVALID_ARGUMENT, message)
