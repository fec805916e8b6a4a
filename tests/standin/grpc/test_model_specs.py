"""From a request's ``ModelSpec`` to a version, and the ``model_spec`` a response carries.

- ``ServerCore::ServableRequestFromModelSpec`` (``server_core.cc``): an empty name is
  INVALID_ARGUMENT ``ModelSpec has no name specified.``; a set ``version`` (even 0) asks for that
  version, a ``version_label`` for the labelled one, neither for the latest.
- ``MakeModelSpec`` (``servables/tensorflow/util.cc``): the name, ``version.value`` of the version
  that answered, ``signature_name`` when one is passed (empty → ``serving_default``), never a
  ``version_label``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from tensorflow_serving.apis import model_pb2

from fashion.serving.grpc.model_specs import acquire, requested_version, response_spec
from fashion.serving.models.manager_types import ServableHandle
from fashion.serving.status import Code, ServingStatusError


def _spec(**fields: object) -> model_pb2.ModelSpec:
    return model_pb2.ModelSpec(**fields)  # type: ignore[arg-type]


def test_a_version_is_asked_for_by_number() -> None:
    assert requested_version(_spec(name="m", version={"value": 7})) == (7, None)


def test_a_set_version_of_0_is_version_0_not_the_latest() -> None:
    spec = _spec(name="m")
    spec.version.value = 0  # the wrapper message is set, with the default value
    assert spec.HasField("version")
    assert requested_version(spec) == (0, None)


def test_a_label_is_asked_for_by_name() -> None:
    assert requested_version(_spec(name="m", version_label="stable")) == (None, "stable")


def test_neither_asks_for_the_latest() -> None:
    assert requested_version(_spec(name="m", signature_name="s")) == (None, None)


class _RecordingManager:
    """The model manager's ``acquire``, recording what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int | None, str | None]] = []

    @contextmanager
    def acquire(
        self, model: str, version: int | None = None, label: str | None = None
    ) -> Iterator[ServableHandle[object]]:
        self.asked.append((model, version, label))
        yield ServableHandle(model, 3, object())


@pytest.mark.parametrize(
    ("fields", "asked"),
    [
        ({"name": "m"}, ("m", None, None)),
        ({"name": "m", "version": {"value": 2}}, ("m", 2, None)),
        ({"name": "m", "version_label": "canary"}, ("m", None, "canary")),
    ],
    ids=["latest", "version", "label"],
)
def test_acquire_asks_the_manager_for_the_spec(
    fields: dict[str, object], asked: tuple[str, int | None, str | None]
) -> None:
    manager = _RecordingManager()
    with acquire(manager, _spec(**fields)) as handle:  # type: ignore[arg-type]
        assert handle.version == 3
    assert manager.asked == [asked]


def test_an_empty_name_is_refused_before_the_manager_is_asked() -> None:
    manager = _RecordingManager()
    with (
        pytest.raises(ServingStatusError) as caught,
        acquire(manager, _spec(version={"value": 1})),  # type: ignore[arg-type]
    ):
        pass
    assert (caught.value.code, caught.value.message) == (
        Code.INVALID_ARGUMENT,
        "ModelSpec has no name specified.",
    )
    assert manager.asked == []


def test_the_response_spec_has_the_name_the_version_and_the_signature_that_ran() -> None:
    assert response_spec("m", 5, "classify_x_to_y") == _spec(
        name="m", version={"value": 5}, signature_name="classify_x_to_y"
    )


def test_an_empty_signature_name_is_answered_as_serving_default() -> None:
    assert response_spec("m", 5, "").signature_name == "serving_default"


def test_without_a_signature_none_is_set_as_get_model_metadata_answers() -> None:
    spec = response_spec("m", 5)
    assert spec == _spec(name="m", version={"value": 5})
    assert spec.signature_name == ""


def test_version_0_is_set_and_no_label_ever() -> None:
    spec = response_spec("m", 0, "serving_default")
    assert spec.HasField("version")
    assert spec.WhichOneof("version_choice") == "version"
    assert spec.version_label == ""
