"""The model status API, its JSON bytes, ordering and not-found texts.

``model_servers/get_model_status_impl.cc``, printed by ``http_rest_api_util.cc``
(``ToJsonString``); versions highest first, as ``core/servable_state_monitor.h`` orders them.
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import RestProbe

pytestmark = pytest.mark.server


def _entry(version: int, state: str = "AVAILABLE") -> dict[str, object]:
    return {
        "version": str(version),
        "state": state,
        "status": {"error_code": "OK", "error_message": ""},
    }


def test_status_is_protobuf_json_with_one_space_indent_and_a_final_newline(
    zoo: RestProbe,
) -> None:
    reply = zoo.status("half")
    assert reply.status == 200, reply
    assert reply.body == (
        b'{\n "model_version_status": [\n  {\n   "version": "1",\n   "state": "AVAILABLE",\n'
        b'   "status": {\n    "error_code": "OK",\n    "error_message": ""\n   }\n  }\n ]\n}\n'
    )


def test_versions_are_listed_in_descending_order(zoo: RestProbe) -> None:
    reply = zoo.status("policy_all")
    assert (reply.status, reply.json()) == (
        200,
        {"model_version_status": [_entry(3), _entry(2), _entry(1)]},
    )


def test_a_version_path_lists_only_that_version(zoo: RestProbe) -> None:
    reply = zoo.status("policy_all", version=2)
    assert (reply.status, reply.json()) == (200, {"model_version_status": [_entry(2)]})


@pytest.mark.parametrize("label", ["first", "second", "no_such_label"])
def test_a_label_path_is_ignored_and_lists_all_versions(zoo: RestProbe, label: str) -> None:
    reply = zoo.status("policy_all", label=label)
    assert (reply.status, reply.json()) == (
        200,
        {"model_version_status": [_entry(3), _entry(2), _entry(1)]},
    )


def test_an_unknown_model_has_no_versions(zoo: RestProbe) -> None:
    reply = zoo.status("nope")
    assert (reply.status, reply.error) == (404, "Could not find any versions of model nope")


def test_an_unknown_model_with_a_label_still_has_no_versions(zoo: RestProbe) -> None:
    reply = zoo.status("nope", label="stable")
    assert (reply.status, reply.error) == (404, "Could not find any versions of model nope")


@pytest.mark.parametrize(
    ("model", "version"),
    [("half", 3), ("nope", 3), ("policy_latest2", 1), ("policy_specific", 2)],
)
def test_a_version_never_tracked_is_not_found(zoo: RestProbe, model: str, version: int) -> None:
    reply = zoo.status(model, version=version)
    assert (reply.status, reply.error) == (
        404,
        f"Could not find version {version} of model {model}",
    )


def test_status_without_a_model_name_is_rejected(zoo: RestProbe) -> None:
    reply = zoo.get("/v1/models")
    assert (reply.status, reply.error) == (400, "Missing model name in request.")
