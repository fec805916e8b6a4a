"""``--monitoring_config_file``: a text-format ``MonitoringConfig`` (``monitoring_config.proto``).

``PrometheusConfig { bool enable = 1; string path = 2; }``; an empty ``path`` means
``PrometheusExporter::kPrometheusPath``, ``/monitoring/prometheus/metrics``
(``util/prometheus_exporter.cc``). The file is read with ``ParseProtoTextFile``
(``util/proto_util.h``): a file protobuf's text parser refuses is INVALID_ARGUMENT
``Invalid protobuf file: '{path}'``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion.serving.monitoring.config import read_metrics_path
from fashion.serving.status import Code, ServingStatusError

DEFAULT_PATH = "/monitoring/prometheus/metrics"


def _read(tmp_path: Path, text: str) -> str | None:
    config = tmp_path / "monitoring.config"
    config.write_text(text)
    return read_metrics_path(str(config))


@pytest.mark.parametrize(
    "text",
    [
        'prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }',
        # The separators protobuf's text format also accepts (TF Serving's own test file uses
        # the colon and comma form).
        'prometheus_config: { enable: true, path: "/monitoring/prometheus/metrics" }\n',
        "prometheus_config <\n  enable: 1\n  path: '/monitoring/prometheus/metrics'\n>\n",
        '# a comment\nprometheus_config {\n  path: "/monitoring/prometheus/metrics"\n'
        "  enable: True\n}\n",
    ],
    ids=["braces", "colon-and-commas", "angle-brackets", "comment-and-order"],
)
def test_an_enabled_config_gives_its_path(tmp_path: Path, text: str) -> None:
    assert _read(tmp_path, text) == DEFAULT_PATH


def test_another_path_is_served_as_given(tmp_path: Path) -> None:
    text = 'prometheus_config { enable: true path: "/metrics/a b" }'
    assert _read(tmp_path, text) == "/metrics/a b"


@pytest.mark.parametrize(
    "text",
    ["prometheus_config { enable: true }", 'prometheus_config { enable: true path: "" }'],
    ids=["no-path", "empty-path"],
)
def test_an_empty_path_is_the_default_path(tmp_path: Path, text: str) -> None:
    assert _read(tmp_path, text) == DEFAULT_PATH


@pytest.mark.parametrize(
    "text",
    [
        "",
        "prometheus_config {}",
        'prometheus_config { enable: false path: "/metrics" }',
        'prometheus_config { path: "/metrics" }',
    ],
    ids=["empty-file", "empty-message", "disabled", "enable-missing"],
)
def test_without_enable_true_there_is_no_endpoint(tmp_path: Path, text: str) -> None:
    assert _read(tmp_path, text) is None


@pytest.mark.parametrize(
    "text",
    [
        "improperly formatted file",
        "prometheus_config { enable: true",
        "prometheus_config { enable: maybe }",
        'prometheus_config { enable: true path: "/a" unknown_field: 1 }',
        "prometheus { enable: true }",
    ],
    ids=["prose", "unclosed", "bad-bool", "unknown-field", "unknown-message"],
)
def test_a_malformed_file_is_invalid_protobuf_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(ServingStatusError) as caught:
        _read(tmp_path, text)
    path = tmp_path / "monitoring.config"
    assert (caught.value.code, caught.value.message) == (
        Code.INVALID_ARGUMENT,
        f"Invalid protobuf file: '{path}'",
    )


def test_a_missing_file_is_reported_as_an_invalid_protobuf_file(tmp_path: Path) -> None:
    """A deviation: TF Serving reports TensorFlow's file-system error here (``ParseProtoTextFile``
    returns ``NewReadOnlyMemoryRegionFromFile``'s status, NOT_FOUND for a missing file); the
    stand-in reports every unreadable file as unparsable, as it does for
    ``--model_config_file`` (``fashion.serving.models.model_config``)."""
    missing = tmp_path / "no-such.config"
    with pytest.raises(ServingStatusError) as caught:
        read_metrics_path(str(missing))
    assert (caught.value.code, caught.value.message) == (
        Code.INVALID_ARGUMENT,
        f"Invalid protobuf file: '{missing}'",
    )
