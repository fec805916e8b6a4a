"""Output tensors to TF Serving's predict response body, byte for byte (``MakeJsonFromTensors``).

Row requests (``instances``) are answered with ``predictions``: one entry per index of the first
dimension, each written with rapidjson's single-line arrays; several outputs make one object per
entry. Columnar requests (``inputs``) are answered with ``outputs``: whole tensors, every array
expanded one item per line. Values follow ``json_tensor.cc``: floats through ``WriteDecimal``,
strings raw (or ``{"b64": ...}`` for outputs named ``*_bytes``).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from fashion.serving.codec.json_document import utf8_bytes
from fashion.serving.codec.json_writer import decimal_strings, indent, quote, render_tensor
from fashion.serving.status import Code, ServingStatusError

__all__ = ["encode_predict_response", "tensor_leaves"]

_INTEGER_TYPES = {"int32", "int16", "int8", "uint8", "int64", "uint32", "uint64"}
_WRITABLE = _INTEGER_TYPES | {"float", "double", "bool", "string"}


def encode_predict_response(
    outputs: Mapping[str, np.ndarray], output_dtypes: Mapping[str, str], row_format: bool
) -> bytes:
    """The body of a successful predict response.

    Args:
        outputs: output key -> tensor, in the order their members should be written (TF
            Serving follows protobuf map order, which clients must treat as unordered).
        output_dtypes: output key -> TensorFlow dtype name (``float``, ``string``, ...).
        row_format: True when the request used ``instances``.

    Returns:
        The JSON bytes, without trailing newline.

    Raises:
        ServingStatusError: INVALID_ARGUMENT with ``json_tensor.cc``'s texts.
    """
    if not outputs:
        raise _invalid("Cannot convert empty tensor map to JSON")
    tensors = {name: np.asarray(tensor) for name, tensor in outputs.items()}
    batch = _batch_size(tensors) if row_format else 0
    for name, tensor in tensors.items():
        dtype = output_dtypes[name]
        if dtype not in _WRITABLE and tensor.size:
            raise _invalid(f"Failed to write JSON value for tensor type: {dtype}")
    layouts = [_Layout.of(name, tensor, output_dtypes[name]) for name, tensor in tensors.items()]
    if row_format:
        text = _row_text(layouts, batch)
    elif len(layouts) == 1:
        text = '{\n    "outputs": ' + layouts[0].render(1, False) + "\n}"
    else:
        members = _members(((layout.name, layout.render(2, False)) for layout in layouts), 2)
        text = '{\n    "outputs": {' + members + "\n" + indent(1) + "}\n}"
    return utf8_bytes(text)


def tensor_leaves(name: str, tensor: np.ndarray, dtype: str) -> list[str]:
    """Every value of a tensor as the JSON text TF Serving writes for it, row-major.

    For string outputs named ``*_bytes`` this is the quoted base64 text that goes inside the
    ``{"b64": ...}`` object.
    """
    if dtype == "float":
        return decimal_strings(tensor.astype(np.float32, copy=False))
    if dtype == "double":
        return decimal_strings(tensor.astype(np.float64, copy=False))
    values = tensor.ravel().tolist()
    if dtype in _INTEGER_TYPES:
        return [str(int(v)) for v in values]
    if dtype == "bool":
        return ["true" if v else "false" for v in values]
    if dtype == "string":
        raw = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values]
        if name.endswith("_bytes"):
            return [quote(base64.b64encode(v).decode("ascii")) for v in raw]
        return [quote(v.decode("utf-8", "surrogateescape")) for v in raw]
    return []


@dataclass(frozen=True)
class _Layout:
    """One output ready to write: its leaves and how they nest."""

    name: str
    leaves: list[str]
    shape: tuple[int, ...]
    b64: bool

    @classmethod
    def of(cls, name: str, tensor: np.ndarray, dtype: str) -> _Layout:
        b64 = dtype == "string" and name.endswith("_bytes")
        return cls(name, tensor_leaves(name, tensor, dtype), tuple(tensor.shape), b64)

    def render(self, depth: int, single_line: bool) -> str:
        """The whole tensor as a value written with ``depth`` containers open."""
        return render_tensor(self.leaves, self.shape, depth, single_line, self.b64)

    def render_item(self, index: int, depth: int) -> str:
        """Slice ``index`` of the first dimension, in single-line-array mode."""
        item_shape = self.shape[1:]
        step = math.prod(item_shape)
        leaves = self.leaves[index * step : (index + 1) * step]
        return render_tensor(leaves, item_shape, depth, True, self.b64)


def _batch_size(tensors: Mapping[str, np.ndarray]) -> int:
    """The shared first dimension of all outputs (``MakeRowFormatJsonFromTensors``)."""
    batch = -1
    for name, tensor in tensors.items():
        if tensor.ndim == 0:
            raise _invalid(f"Tensor name: {name} has no shape information ")
        current = tensor.shape[0]
        if batch >= 0 and batch != current:
            raise _invalid(
                f"Tensor name: {name} has inconsistent batch size: {current} expecting: {batch}"
            )
        batch = current
    return batch


def _members(items: Iterable[tuple[str, str]], depth: int) -> str:
    """An object's ``"name": value`` members, one per line at ``depth``, comma-separated."""
    return "".join(
        ("," if k else "") + "\n" + indent(depth) + quote(name) + ": " + text
        for k, (name, text) in enumerate(items)
    )


def _row_text(layouts: list[_Layout], batch: int) -> str:
    """``predictions``: one entry per index of the first dimension, in rapidjson's layout."""
    if len(layouts) == 1:
        body = ", ".join(layouts[0].render_item(i, 2) for i in range(batch))
    else:
        entries = []
        for i in range(batch):
            fields = _members(((layout.name, layout.render_item(i, 3)) for layout in layouts), 3)
            entries.append(
                ("," if i else "") + "\n" + indent(2) + "{" + fields + "\n" + indent(2) + "}"
            )
        body = "".join(entries)
    return '{\n    "predictions": [' + body + ("\n    ]" if batch else "]") + "\n}"


def _invalid(message: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, message)
