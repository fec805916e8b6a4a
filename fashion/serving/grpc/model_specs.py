"""From a request's ``ModelSpec`` to the version that answers it, as ``server_core.cc`` resolves.

``ServerCore::ServableRequestFromModelSpec`` reads the name, then a version or a version label;
the manager finds the servable (``basic_manager.cc``). The texts are theirs; the errors of the
lookup itself (unknown label, no such version) are the model manager's, shared with REST.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tensorflow_serving.apis import model_pb2

from fashion.serving.models.manager import ModelManager
from fashion.serving.models.manager_types import ServableHandle
from fashion.serving.runtime.servable import Servable
from fashion.serving.status import Code, ServingStatusError

__all__ = ["DEFAULT_SIGNATURE", "acquire", "requested_version", "response_spec"]

DEFAULT_SIGNATURE = "serving_default"


def _invalid(message: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, message)


def requested_version(spec: model_pb2.ModelSpec) -> tuple[int | None, str | None]:
    """The ``version_choice`` oneof: a version, a label, or neither (the latest)."""
    choice = spec.WhichOneof("version_choice")
    if choice == "version":
        return spec.version.value, None
    if choice == "version_label":
        return None, spec.version_label
    return None, None


@contextmanager
def acquire(
    manager: ModelManager[Servable], spec: model_pb2.ModelSpec
) -> Iterator[ServableHandle[Servable]]:
    """Hold the version that answers ``spec`` for the duration of the block.

    Raises:
        ServingStatusError: ``ModelSpec has no name specified.``, or the manager's NOT_FOUND and
            label errors.
    """
    if not spec.name:
        raise _invalid("ModelSpec has no name specified.")
    version, label = requested_version(spec)
    with manager.acquire(spec.name, version, label) as handle:
        yield handle


def response_spec(
    name: str, version: int, signature_name: str | None = None
) -> model_pb2.ModelSpec:
    """``MakeModelSpec`` (``util.cc``): the name asked for, the version that answered, and the
    signature that ran (an empty name becomes ``serving_default``; None leaves it unset)."""
    spec = model_pb2.ModelSpec(name=name)
    spec.version.value = version
    if signature_name is not None:
        spec.signature_name = signature_name or DEFAULT_SIGNATURE
    return spec
