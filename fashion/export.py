"""Versioned SavedModel export that TensorFlow Serving can load, and a look inside one.

Three things make this more than ``model.save``:

* **A fixed signature contract.** ``serving_default`` takes ``images`` (float32, [-1, 28, 28, 1])
  and returns ``probabilities`` (float32, [-1, 10]) on every TensorFlow from 2.15 (Keras 2) to the
  newest (Keras 3). Keras 3's ``model.export`` names the input ``keras_tensor`` and the seed's
  ``tf.saved_model.save(model)`` gives ``inputs``/``output_0``; neither is a contract.
* **Loadable by the session loader.** TF Serving loads with the TF1-style loader, which looks
  variables up by the names the graph records. Saving a ``tf.Module`` that holds the concrete
  function's own variables makes them resolvable there (on Keras 3 the seed's export is not:
  ``Could not find variable dense/bias``).
* **Atomic.** TF Serving loads any integer-named directory the moment it appears, so the export
  is written under a non-numeric name beside the version and renamed into place when complete.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fashion.preprocess import IMAGE_SHAPE

if TYPE_CHECKING:
    import keras

__all__ = [
    "INPUT_NAME",
    "OUTPUT_NAME",
    "SIGNATURE_NAME",
    "ExportError",
    "SignatureDescription",
    "TensorDescription",
    "export_version",
    "format_description",
    "inspect",
    "parse_version",
]

SIGNATURE_NAME = "serving_default"
INPUT_NAME = "images"
OUTPUT_NAME = "probabilities"
#: The contract's output width: one probability per Fashion-MNIST class.
NUM_CLASSES = 10
_STAGING_PREFIX = ".export-"


class ExportError(ValueError):
    """Raised when a version cannot be exported (bad version, existing version, unwritable path)."""


def parse_version(version: object) -> int:
    """Accept a positive integer version (or its decimal string) and reject everything else.

    Raises:
        ExportError: the version is not a positive integer.
    """
    if isinstance(version, bool):
        raise ExportError(f"version must be a positive integer, got {version!r}")
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version.strip())
    if not isinstance(version, int) or version < 1:
        raise ExportError(f"version must be a positive integer, got {version!r}")
    return version


def _serving_module(model: keras.Model) -> tuple[Any, Any]:
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, *IMAGE_SHAPE), tf.float32, name=INPUT_NAME)])
    def serve(images: tf.Tensor) -> dict[str, tf.Tensor]:
        return {OUTPUT_NAME: tf.cast(model(images, training=False), tf.float32)}

    try:
        concrete = serve.get_concrete_function()
    except (ValueError, TypeError, tf.errors.InvalidArgumentError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(
            f"the model does not take (N, {', '.join(map(str, IMAGE_SHAPE))}) float32 images: "
            f"{first_line}"
        ) from exc
    output = concrete.structured_outputs[OUTPUT_NAME]
    if not output.shape.is_compatible_with((None, NUM_CLASSES)):
        raise ExportError(
            f"the model returns shape {output.shape.as_list()}; the serving contract is "
            f"(N, {NUM_CLASSES}) class probabilities"
        )
    module = tf.Module()
    # The raw tf.Variables the graph reads: tracking them is what lets the session loader
    # restore them by name.
    module.serving_variables = list(concrete.variables)
    module.serve = serve
    return module, concrete


def _prepare_base(base_path: Path) -> None:
    try:
        base_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create base path {base_path}: {exc.strerror or exc}") from exc
    if not os.access(base_path, os.W_OK | os.X_OK):
        raise ExportError(f"base path {base_path} is not writable")


def export_version(
    model: keras.Model, base_path: str | Path, version: int | str, *, overwrite: bool = False
) -> Path:
    """Export ``model`` as ``base_path/<version>``, atomically, with the fixed signature.

    Args:
        model: a Keras model taking (N, 28, 28, 1) float32 and returning (N, 10) probabilities.
        base_path: the model's base path (the directory TF Serving is pointed at).
        version: positive integer version.
        overwrite: replace an existing version. The old one is moved aside first; a server
            polling at that instant may see the version missing for a moment.

    Returns:
        The version directory.

    Raises:
        ExportError: invalid version, existing version without ``overwrite``, a base path
            that cannot be created or written, or a model that does not take (N, 28, 28, 1)
            images or return (N, 10) outputs.
    """
    import tensorflow as tf

    number = parse_version(version)
    base = Path(base_path).absolute()
    final = base / str(number)
    if final.exists() and not overwrite:
        raise ExportError(f"version {number} already exists at {final} (use overwrite=True)")
    module, concrete = _serving_module(model)  # a model that breaks the contract writes nothing
    _prepare_base(base)
    staging = base / f"{_STAGING_PREFIX}{number}-{uuid.uuid4().hex[:8]}"
    try:
        tf.saved_model.save(module, str(staging), signatures={SIGNATURE_NAME: concrete})
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError | tf.errors.OpError):
            raise ExportError(f"writing the SavedModel under {base} failed: {exc}") from exc
        raise
    if final.exists():
        retired = base / f"{_STAGING_PREFIX}{number}-replaced-{uuid.uuid4().hex[:8]}"
        final.rename(retired)
        staging.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(final)
    return final


@dataclass(frozen=True)
class TensorDescription:
    """One input or output of a signature, as ``saved_model_cli show`` prints it."""

    key: str
    dtype: str
    shape: tuple[int, ...] | None
    tensor_name: str


@dataclass(frozen=True)
class SignatureDescription:
    """One SignatureDef of a SavedModel's MetaGraph."""

    name: str
    method_name: str
    inputs: tuple[TensorDescription, ...]
    outputs: tuple[TensorDescription, ...]


def _describe_tensors(tensor_map: Any) -> tuple[TensorDescription, ...]:
    from tensorflow.core.framework import types_pb2

    described = []
    for key in sorted(tensor_map):
        info = tensor_map[key]
        shape = (
            None
            if info.tensor_shape.unknown_rank
            else tuple(int(dim.size) for dim in info.tensor_shape.dim)
        )
        described.append(
            TensorDescription(key, types_pb2.DataType.Name(info.dtype), shape, info.name)
        )
    return tuple(described)


def inspect(path: str | Path, tags: str = "serve") -> list[SignatureDescription]:
    """Describe the signatures of the MetaGraph tagged ``tags`` (comma-separated), sorted by name.

    Reads ``saved_model.pb`` only, so it works without loading variables.

    Raises:
        FileNotFoundError: no ``saved_model.pb`` under ``path``.
        ValueError: no MetaGraph has exactly these tags.
    """
    pb_path = Path(path) / "saved_model.pb"
    if not pb_path.is_file():
        raise FileNotFoundError(f"{path}: no saved_model.pb (is this a SavedModel directory?)")
    # Imported only now: importing TensorFlow takes seconds, a wrong path should not.
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(pb_path.read_bytes())
    wanted = {tag.strip() for tag in tags.split(",") if tag.strip()}
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == wanted:
            return [
                SignatureDescription(
                    name,
                    sig.method_name,
                    _describe_tensors(sig.inputs),
                    _describe_tensors(sig.outputs),
                )
                for name, sig in sorted(meta_graph.signature_def.items())
            ]
    found = [sorted(mg.meta_info_def.tags) for mg in saved_model.meta_graphs]
    raise ValueError(f"{path}: no MetaGraph with tags {sorted(wanted)} (found {found})")


def _format_tensor(kind: str, tensor: TensorDescription) -> list[str]:
    shape = "unknown_rank" if tensor.shape is None else str(tensor.shape).replace(",)", ")")
    return [
        f"    {kind}['{tensor.key}'] tensor_info:",
        f"        dtype: {tensor.dtype}",
        f"        shape: {shape}",
        f"        name: {tensor.tensor_name}",
    ]


def format_description(signatures: list[SignatureDescription], tags: str = "serve") -> str:
    """Render :func:`inspect`'s result in the layout of ``saved_model_cli show --all``."""
    lines = [f"MetaGraphDef with tag-set: '{tags}' contains the following SignatureDefs:", ""]
    for signature in signatures:
        lines.append(f"signature_def['{signature.name}']:")
        lines.append("  The given SavedModel SignatureDef contains the following input(s):")
        for tensor in signature.inputs:
            lines.extend(_format_tensor("inputs", tensor))
        lines.append("  The given SavedModel SignatureDef contains the following output(s):")
        for tensor in signature.outputs:
            lines.extend(_format_tensor("outputs", tensor))
        lines.append(f"  Method name is: {signature.method_name}")
        lines.append("")
    return "\n".join(lines)
