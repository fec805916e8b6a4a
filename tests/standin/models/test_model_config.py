"""The model configuration: single-model mode, the config file, validation, policies and labels.

The file is the text format of ``config/model_server_config.proto`` (examples in
``g3doc/serving_config.md``); start-up errors and label rules are ``model_servers/server.cc``'s
and ``server_core.cc``'s (``ValidateModelConfigList``, ``UpdateModelVersionLabelMap``); version
policies are those of ``sources/storage_path/file_system_storage_path_source.cc``.
"""

from __future__ import annotations

import io
import logging
import pathlib
import threading
from collections.abc import Iterator

import pytest

from fashion.serving.logs import lines as log
from fashion.serving.models.model_config import (
    ConfigKind,
    CustomModelConfigError,
    ModelServerConfig,
    ModelSpec,
    PlatformChoice,
    PolicyKind,
    VersionPolicy,
    check_label_assignment,
    parse_model_server_config,
    read_model_server_config,
    single_model_config,
    validate_config,
    validate_platforms,
)
from fashion.serving.status import Code
from tests.standin.logs.capture import lines, restored_logger, text_of
from tests.support.status_errors import code_and_message, status_error

# Two models, policies and labels, in the style of serving_config.md's examples.
_EXAMPLE_CONFIG = """
model_config_list {
  config {
    name: "fashion_model"
    base_path: "/srv/models/fashion_model"
    model_platform: "tensorflow"
    model_version_policy {
      specific {
        versions: 1
        versions: 2
      }
    }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config {
    name: "other_model"
    base_path: "/srv/models/other_model"
    model_platform: "tensorflow"
    model_version_policy { latest { num_versions: 2 } }
  }
}
"""


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the stand-in logs during the test, from the test's own thread."""
    with restored_logger() as logger:
        output = io.StringIO()
        log.configure_logging(output)
        _only_this_thread(logger)
        yield output


def _only_this_thread(logger: logging.Logger) -> None:
    """Keep lines logged by the test itself: a server thread of another test must not count."""
    test_thread = threading.get_ident()
    for handler in logger.handlers:
        handler.addFilter(lambda record: record.thread == test_thread)


def _messages(output: io.StringIO) -> list[str]:
    return [text_of(line) for line in lines(output)]


def _config(*models: ModelSpec) -> ModelServerConfig:
    return ModelServerConfig(ConfigKind.MODEL_CONFIG_LIST, models)


# --- building and reading ----------------------------------------------------------------------


def test_single_model_mode_serves_one_tensorflow_model_with_the_latest_version(
    log_output: io.StringIO,
) -> None:
    config = single_model_config("fashion_model", "/srv/models/fashion_model")

    assert config == ModelServerConfig(
        ConfigKind.MODEL_CONFIG_LIST,
        (ModelSpec("fashion_model", "/srv/models/fashion_model", VersionPolicy.latest(1)),),
    )
    assert config.models[0].platform == "tensorflow"
    assert dict(config.models[0].labels) == {}


def test_single_model_mode_logs_the_building_line_with_two_spaces(
    log_output: io.StringIO,
) -> None:
    single_model_config("m", "/models/m")

    assert _messages(log_output) == [
        "Building single TensorFlow model file config:  model_name: m model_base_path: /models/m"
    ]


def test_an_example_file_parses_into_two_models_with_policies_and_labels() -> None:
    config = parse_model_server_config(_EXAMPLE_CONFIG, "/c.conf")

    assert config.kind is ConfigKind.MODEL_CONFIG_LIST
    first, second = config.models
    assert (first.name, first.base_path, first.platform) == (
        "fashion_model",
        "/srv/models/fashion_model",
        "tensorflow",
    )
    assert first.policy == VersionPolicy.specific([1, 2])
    assert dict(first.labels) == {"stable": 1, "canary": 2}
    assert (second.name, second.policy) == ("other_model", VersionPolicy.latest(2))
    assert dict(second.labels) == {}
    assert config.model("other_model") is second
    assert config.model("missing") is None


def test_text_format_variants_are_accepted() -> None:
    text = b"""
    # a comment
    model_config_list: {
      config: { name: 'a', base_path: '/models/a', model_platform: "tensorflow" },
      config: { name: "b" base_path: "/models/b" model_platform: 'tensorflow'
                model_version_policy: { all: {} } }
    }
    """

    config = parse_model_server_config(text, "/c.conf")

    assert [(m.name, m.policy.kind) for m in config.models] == [
        ("a", PolicyKind.LATEST),
        ("b", PolicyKind.ALL),
    ]


def test_a_model_without_a_policy_gets_latest_one() -> None:
    config = parse_model_server_config(
        'model_config_list { config { name: "a" base_path: "/a" } }', "/c"
    )

    assert config.models[0].policy == VersionPolicy.latest(1)


def test_config_file_is_read_from_disk(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "models.config"
    path.write_text(_EXAMPLE_CONFIG)

    config = read_model_server_config(path)

    assert [model.name for model in config.models] == ["fashion_model", "other_model"]


def test_invalid_text_gives_invalid_protobuf_file_and_logs_the_parse_error(
    tmp_path: pathlib.Path, log_output: io.StringIO
) -> None:
    path = tmp_path / "bad.config"
    path.write_text('model_config_list { config { name: "a" bogus: 1 } }')

    assert code_and_message(read_model_server_config, str(path)) == (
        Code.INVALID_ARGUMENT,
        f"Invalid protobuf file: '{path}'",
    )
    (message,) = _messages(log_output)
    assert message.startswith("Error parsing text-format tensorflow.serving.ModelServerConfig: 1:")
    assert "bogus" in message


def test_a_missing_file_gives_invalid_protobuf_file() -> None:
    assert code_and_message(read_model_server_config, "/no/such/models.config") == (
        Code.INVALID_ARGUMENT,
        "Invalid protobuf file: '/no/such/models.config'",
    )


def test_a_field_given_twice_is_a_parse_error(log_output: io.StringIO) -> None:
    text = 'model_config_list { config { name: "a" name: "b" } }'

    assert code_and_message(parse_model_server_config, text, "/c") == (
        Code.INVALID_ARGUMENT,
        "Invalid protobuf file: '/c'",
    )


def test_an_empty_file_is_a_config_with_nothing_set() -> None:
    assert parse_model_server_config("", "/c") == ModelServerConfig(ConfigKind.NOT_SET)


def test_custom_model_config_is_recognised_and_aborts_when_applied() -> None:
    config = parse_model_server_config("custom_model_config {}", "/c")

    assert config.kind is ConfigKind.CUSTOM_MODEL_CONFIG
    with pytest.raises(CustomModelConfigError) as caught:
        validate_platforms(config)
    assert caught.value.message == "ModelServer does not yet support custom model config."


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize("base_path", ["/srv/models/m", "gs://bucket/m", "s3://bucket/m"])
def test_absolute_paths_and_uris_are_accepted(base_path: str) -> None:
    validate_config(_config(ModelSpec("m", base_path)))


@pytest.mark.parametrize("base_path", ["models/m", "./m", "", "c:/models/m"])
def test_relative_base_path_is_rejected(base_path: str) -> None:
    assert code_and_message(validate_config, _config(ModelSpec("m", base_path))) == (
        Code.INVALID_ARGUMENT,
        f"Expected model m to have an absolute path or URI; got base_path()={base_path}",
    )


def test_a_model_listed_twice_is_rejected_before_paths_are_checked() -> None:
    config = _config(ModelSpec("a", "relative"), ModelSpec("b", "/b"), ModelSpec("b", "/b2"))

    assert code_and_message(validate_config, config) == (
        Code.INVALID_ARGUMENT,
        "Illegal to list model b multiple times in config list",
    )


def _one_model(fields: str) -> ModelServerConfig:
    """A config file's model ``m`` at ``/m`` with these further fields, parsed."""
    text = f'model_config_list {{ config {{ name: "m" base_path: "/m" {fields} }} }}'
    return parse_model_server_config(text, "/c")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param(
            _one_model(""),
            "Illegal setting neither ModelServerConfig::model_type (deprecated) nor "
            "ModelServerConfig::model_platform, model name is m",
            id="a-model-without-platform",
        ),
        pytest.param(
            _config(ModelSpec("m", "/m", platform="pytorch")),
            "Model m requests unsupported platform pytorch",
            id="an-unknown-platform",
        ),
        pytest.param(
            ModelServerConfig(
                ConfigKind.MODEL_CONFIG_LIST,
                (ModelSpec("m", "/m"),),
                (PlatformChoice(model_platform="tensorflow", model_type=1),),
            ),
            "Illegal setting both ModelServerConfig::model_type (deprecated) and "
            "ModelServerConfig::model_platform, model name is m",
            id="model-type-and-model-platform-together",
        ),
        pytest.param(
            _one_model("model_type: OTHER"),
            "ModelServerConfig::model_type choice 2 not supported.",
            id="model-type-other",
        ),
    ],
)
def test_platform_settings_that_are_rejected(config: ModelServerConfig, message: str) -> None:
    assert code_and_message(validate_platforms, config) == (Code.INVALID_ARGUMENT, message)


def test_the_deprecated_model_type_alone_selects_tensorflow_with_a_warning(
    log_output: io.StringIO,
) -> None:
    config = _one_model("model_type: TENSORFLOW")

    validate_platforms(config)

    assert config.models[0].platform == "tensorflow"
    assert _messages(log_output) == [
        "Deprecated ModelServerConfig::model_type field used. "
        "Prefer ModelServerConfig::model_platform."
    ]


def test_a_reload_may_not_change_a_models_platform() -> None:
    old = _config(ModelSpec("m", "/m"))
    new = _config(ModelSpec("m", "/m", platform="pytorch"))

    assert code_and_message(validate_config, new, old) == (
        Code.INVALID_ARGUMENT,
        "Illegal to change a model's platform. For model m platform was tensorflow and new "
        "platform requested is pytorch",
    )


@pytest.mark.parametrize(
    "new",
    [ModelServerConfig(ConfigKind.CUSTOM_MODEL_CONFIG), ModelServerConfig(ConfigKind.NOT_SET)],
)
def test_a_model_list_can_only_be_replaced_by_another_model_list(new: ModelServerConfig) -> None:
    old = _config(ModelSpec("m", "/m"))

    assert code_and_message(validate_config, new, old) == (
        Code.FAILED_PRECONDITION,
        "Cannot transition to requested config. It is only legal to transition from one "
        "ModelConfigList to another.",
    )


def test_reloading_an_identical_config_or_after_an_empty_one_is_allowed() -> None:
    config = _config(ModelSpec("m", "/m"))

    validate_config(config, config)
    validate_config(config, ModelServerConfig(ConfigKind.NOT_SET))
    validate_config(_config(ModelSpec("other", "/o")), config)


# --- label assignment (server_core.cc, UpdateModelVersionLabelMap) ----------------------------


@pytest.mark.parametrize(
    ("current", "requested", "available", "allow"),
    [
        pytest.param({}, {"stable": 1}, {1}, False, id="a-label-on-an-available-version"),
        pytest.param(
            {"stable": 1}, {"stable": 2}, {1, 2}, False, id="moving-a-label-to-an-available-version"
        ),
        pytest.param({}, {"canary": 2}, set(), True, id="with-the-allow-flag-a-new-label-anywhere"),
        pytest.param(
            {"canary": 2},
            {"canary": 2},
            {1},
            True,
            id="with-the-allow-flag-a-label-that-keeps-its-unavailable-version",
        ),
    ],
)
def test_label_assignments_that_are_accepted(
    current: dict[str, int], requested: dict[str, int], available: set[int], allow: bool
) -> None:
    check_label_assignment("m", current, requested, available, allow_unavailable=allow)


@pytest.mark.parametrize(
    ("current", "requested", "available", "allow"),
    [
        pytest.param(
            {},
            {"stable": 1, "canary": 2},
            {1},
            False,
            id="by-default-a-label-on-an-unavailable-version",
        ),
        pytest.param(
            {}, {"canary": 2}, set(), False, id="at-start-up-nothing-is-available-so-any-label"
        ),
        pytest.param(
            {"canary": 1},
            {"canary": 2},
            {1},
            True,
            id="with-the-allow-flag-still-moving-a-label-to-an-unavailable-version",
        ),
    ],
)
def test_label_assignments_that_are_rejected_with_http_400(
    current: dict[str, int], requested: dict[str, int], available: set[int], allow: bool
) -> None:
    error = status_error(check_label_assignment, "m", current, requested, available, allow)
    assert (error.code, error.http_status, error.message) == (
        Code.FAILED_PRECONDITION,
        400,
        "Request to assign label to version 2 of model m, which is not currently available for "
        "inference",
    )


def test_a_file_that_is_not_utf8_is_an_invalid_protobuf_file(log_output: io.StringIO) -> None:
    text = b'model_config_list {\n  config { name: "caf\xe9" } }'

    assert code_and_message(parse_model_server_config, text, "/c") == (
        Code.INVALID_ARGUMENT,
        "Invalid protobuf file: '/c'",
    )
    assert _messages(log_output) == [
        "Error parsing text-format tensorflow.serving.ModelServerConfig: 2:22: invalid UTF-8"
    ]
