"""Version labels from the model config file.

Assigned and resolved by ``model_servers/server_core.cc`` (``UpdateModelVersionLabelMap``,
``GetModelVersionForLabel``, ``ServableRequestFromModelSpec``).

Zoo labels: ``half``: ``stable`` → 1, ``ghost`` → 7 (no such version: allowed at start-up only
with ``--allow_version_labels_for_unavailable_models``, which the zoo passes);
``policy_all``: ``first`` → 1, ``second`` → 2. Other models have no labels.
"""

from __future__ import annotations

import pytest

from tests.support.rest_probe import ONE, RestProbe

pytestmark = pytest.mark.server


@pytest.mark.parametrize(
    ("model", "label", "prediction"),
    [("half", "stable", 2.5), ("policy_all", "first", 1.0), ("policy_all", "second", 2.0)],
)
def test_a_label_resolves_to_its_version(
    zoo: RestProbe, model: str, label: str, prediction: float
) -> None:
    reply = zoo.predict(model, ONE, label=label)
    assert (reply.status, reply.json()) == (200, {"predictions": [prediction]})


@pytest.mark.parametrize("verb", ["classify", "regress"])
def test_an_unknown_label_in_a_classify_or_regress_url_is_400(zoo: RestProbe, verb: str) -> None:
    reply = zoo.call("half", verb, {"examples": [{"x": 1.0}]}, label="nope")
    assert (reply.status, reply.error) == (400, "Unrecognized servable version label: nope")


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("half", "nope"),  # model with labels, unknown label
        ("identity", "stable"),  # model without labels
        ("nope", "stable"),  # unknown model
        ("policy_all", "latest"),  # no built-in labels
        ("policy_all", "canary"),
        ("half", "Stable"),  # labels are case-sensitive
    ],
)
def test_an_unknown_label_is_400_unrecognized_not_404(
    zoo: RestProbe, model: str, label: str
) -> None:
    reply = zoo.predict(model, ONE, label=label)
    assert (reply.status, reply.error) == (400, f"Unrecognized servable version label: {label}")


def test_a_label_on_a_version_that_is_not_loaded_is_servable_not_found(zoo: RestProbe) -> None:
    reply = zoo.predict("half", ONE, label="ghost")
    assert (reply.status, reply.error) == (404, "Servable not found for request: Specific(half, 7)")


def test_the_status_api_ignores_labels(zoo: RestProbe) -> None:
    plain = zoo.status("half")
    for label in ("stable", "ghost", "nope"):
        reply = zoo.status("half", label=label)
        assert (reply.status, reply.body) == (200, plain.body), label
