"""The model configuration: single-model flags or a ``ModelServerConfig`` file.

TF Serving serves either one model built from ``--model_name``/``--model_base_path`` or the
models listed in a protobuf text-format ``ModelServerConfig``. The file is parsed with
``google.protobuf.text_format`` into the real message class from ``tensorflow-serving-api``, so
the grammar (comments, ``:`` before ``{`` optional, quoting, duplicate-field errors) is
protobuf's, then converted to frozen dataclasses the rest of the stand-in works with.

The validation functions reproduce ``ServerCore``'s checks and their texts. ``ServerCore``
interleaves them with label installation, so they are split the same way:

1. :func:`validate_config` (transition, duplicate names, relative base paths, platform change),
2. :func:`check_label_assignment` per model (needs the live version states),
3. :func:`validate_platforms` (missing/unknown platform, ``custom_model_config``).
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
from collections.abc import Iterable, Mapping

from google.protobuf import text_format
from tensorflow_serving.config import file_system_storage_path_source_pb2, model_server_config_pb2

from fashion.serving.logs import texts as log
from fashion.serving.models.model_spec import ModelSpec, PolicyKind, VersionPolicy
from fashion.serving.status import Code, ServingStatusError

__all__ = [
    "SUPPORTED_PLATFORMS",
    "TENSORFLOW_PLATFORM",
    "ConfigKind",
    "CustomModelConfigError",
    "ModelServerConfig",
    "ModelSpec",
    "PlatformChoice",
    "PolicyKind",
    "VersionPolicy",
    "check_label_assignment",
    "config_from_proto",
    "parse_model_server_config",
    "read_model_server_config",
    "single_model_config",
    "validate_config",
    "validate_platforms",
]

TENSORFLOW_PLATFORM = "tensorflow"
"""The only ``model_platform`` the binary registers (without ``--platform_config_file``)."""

SUPPORTED_PLATFORMS: frozenset[str] = frozenset({TENSORFLOW_PLATFORM})

_MODEL_TYPE_UNSPECIFIED = 0
_MODEL_TYPE_TENSORFLOW = 1
_MESSAGE_TYPE = "tensorflow.serving.ModelServerConfig"
_POSITION_PREFIX = re.compile(r"^\d+:\d+ : ")


class CustomModelConfigError(ServingStatusError):
    """Raised for a ``custom_model_config``: the real binary logs a FATAL line and aborts.

    The caller should log :func:`fashion.serving.logs.texts.custom_model_config_unsupported`
    and end the process abnormally (the real one dies of SIGABRT), not print ``Failed to start
    server``.
    """

    def __init__(self) -> None:
        super().__init__(
            Code.UNIMPLEMENTED, "ModelServer does not yet support custom model config."
        )


@dataclasses.dataclass(frozen=True)
class PlatformChoice:
    """How a ``ModelConfig`` named its platform: ``model_platform`` and/or the deprecated
    ``model_type`` (0 = unset, 1 = TENSORFLOW, 2 = OTHER).

    Kept beside each :class:`ModelSpec` because the platform errors, raised only when the
    config is applied, depend on which of the two fields was written.
    """

    model_platform: str = ""
    model_type: int = _MODEL_TYPE_UNSPECIFIED


class ConfigKind(enum.Enum):
    """Which branch of ``ModelServerConfig``'s ``config`` oneof is set."""

    NOT_SET = "not_set"
    MODEL_CONFIG_LIST = "model_config_list"
    CUSTOM_MODEL_CONFIG = "custom_model_config"


@dataclasses.dataclass(frozen=True)
class ModelServerConfig:
    """A whole configuration: the oneof branch and, for a list, its models in file order.

    ``platform_choices`` is aligned with ``models`` for configs read from a file; configs built
    in code may leave it empty, and then each ``ModelSpec.platform`` counts as
    ``model_platform``.

    A ``NOT_SET`` config (empty file) is valid: the server logs ``Taking no action for empty
    config.`` and serves nothing until a later reload.
    """

    kind: ConfigKind
    models: tuple[ModelSpec, ...] = ()
    platform_choices: tuple[PlatformChoice, ...] = ()

    def model(self, name: str) -> ModelSpec | None:
        """The model called ``name``, if configured."""
        return next((spec for spec in self.models if spec.name == name), None)

    def platform_choice(self, index: int) -> PlatformChoice:
        """How model ``index`` named its platform (from ``ModelSpec.platform`` if not recorded)."""
        if index < len(self.platform_choices):
            return self.platform_choices[index]
        return PlatformChoice(model_platform=self.models[index].platform)


def single_model_config(model_name: str, base_path: str) -> ModelServerConfig:
    """The config of single-model mode (``--model_name``/``--model_base_path``); logs it.

    Returns:
        One model, platform ``tensorflow``, default policy (latest 1), no labels.
    """
    log.building_single_model_config(model_name, base_path)
    return ModelServerConfig(
        ConfigKind.MODEL_CONFIG_LIST, (ModelSpec(name=model_name, base_path=base_path),)
    )


_ServableVersionPolicy = (
    file_system_storage_path_source_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy
)


def _policy_from_proto(policy: _ServableVersionPolicy) -> VersionPolicy:
    choice = policy.WhichOneof("policy_choice")
    if choice == "all":
        return VersionPolicy.all()
    if choice == "specific":
        return VersionPolicy.specific(policy.specific.versions)
    if choice == "latest":
        return VersionPolicy.latest(policy.latest.num_versions)
    return VersionPolicy.latest(1)  # unset: the source's default is latest


def config_from_proto(proto: model_server_config_pb2.ModelServerConfig) -> ModelServerConfig:
    """Convert the protobuf message to the stand-in's dataclasses."""
    choice = proto.WhichOneof("config")
    if choice == "custom_model_config":
        return ModelServerConfig(ConfigKind.CUSTOM_MODEL_CONFIG)
    if choice != "model_config_list":
        return ModelServerConfig(ConfigKind.NOT_SET)
    entries = proto.model_config_list.config
    choices = tuple(PlatformChoice(e.model_platform, int(e.model_type)) for e in entries)
    models = tuple(
        ModelSpec(
            name=entry.name,
            base_path=entry.base_path,
            policy=_policy_from_proto(entry.model_version_policy),
            labels=dict(entry.version_labels),
            platform=_nominal_platform(choice),
        )
        for entry, choice in zip(entries, choices, strict=True)
    )
    return ModelServerConfig(ConfigKind.MODEL_CONFIG_LIST, models, choices)


def _invalid_file(path: str) -> ServingStatusError:
    return ServingStatusError(Code.INVALID_ARGUMENT, f"Invalid protobuf file: '{path}'")


def parse_model_server_config(text: str | bytes, path: str) -> ModelServerConfig:
    """Parse text-format ``ModelServerConfig`` content read from ``path``.

    Args:
        text: the file's content (bytes must be UTF-8).
        path: the file name, as given on the command line, for the error text.

    Raises:
        ServingStatusError: INVALID_ARGUMENT ``Invalid protobuf file: '{path}'``; the parser's
            detail (``Error parsing text-format ...: {line}:{col}: ...``) is logged first.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text.count(b"\n", 0, exc.start) + 1
            column = exc.start - (text.rfind(b"\n", 0, exc.start) + 1) + 1
            log.text_format_parse_error(_MESSAGE_TYPE, line, column, "invalid UTF-8")
            raise _invalid_file(path) from exc
    proto = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, proto)
    except text_format.ParseError as exc:
        detail = _POSITION_PREFIX.sub("", str(exc))
        log.text_format_parse_error(_MESSAGE_TYPE, exc.GetLine() or 0, exc.GetColumn() or 0, detail)
        raise _invalid_file(path) from exc
    return config_from_proto(proto)


def read_model_server_config(path: str | os.PathLike[str]) -> ModelServerConfig:
    """Read and parse the ``--model_config_file``.

    An unreadable file gives the same error as an unparsable one (``proto_util.h``; the real
    binary reports TensorFlow's file-system error there, e.g. ``NOT_FOUND``).

    Raises:
        ServingStatusError: INVALID_ARGUMENT ``Invalid protobuf file: '{path}'``.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            content = handle.read()
    except OSError as exc:
        raise _invalid_file(name) from exc
    return parse_model_server_config(content, name)


_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9.]*://")


def _is_relative_path(uri: str) -> bool:
    """TensorFlow's ``UriIsRelativePath``: no ``scheme://`` and no leading ``/``."""
    return not _URI_SCHEME.match(uri) and not uri.startswith("/")


def _nominal_platform(choice: PlatformChoice) -> str:
    """The platform a config entry asks for, without validating it (for ``ModelSpec``)."""
    if choice.model_type == _MODEL_TYPE_TENSORFLOW and not choice.model_platform:
        return TENSORFLOW_PLATFORM
    return choice.model_platform


def _platform(name: str, choice: PlatformChoice) -> str:
    """``ServerCore``'s ``GetPlatform``: the model's platform, or its error."""
    if choice.model_type != _MODEL_TYPE_UNSPECIFIED:
        log.deprecated_model_type()
        if choice.model_platform:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT,
                "Illegal setting both ModelServerConfig::model_type (deprecated) and "
                f"ModelServerConfig::model_platform, model name is {name}",
            )
        if choice.model_type != _MODEL_TYPE_TENSORFLOW:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT,
                f"ModelServerConfig::model_type choice {choice.model_type} not supported.",
            )
        return TENSORFLOW_PLATFORM
    if not choice.model_platform:
        raise ServingStatusError(
            Code.INVALID_ARGUMENT,
            "Illegal setting neither ModelServerConfig::model_type (deprecated) nor "
            f"ModelServerConfig::model_platform, model name is {name}",
        )
    return choice.model_platform


def _platforms(config: ModelServerConfig) -> list[tuple[str, str]]:
    """``(name, platform)`` per model, raising the first platform error in config order."""
    return [
        (spec.name, _platform(spec.name, config.platform_choice(index)))
        for index, spec in enumerate(config.models)
    ]


def validate_config(new: ModelServerConfig, old: ModelServerConfig | None = None) -> None:
    """Checks made before labels are installed, in ``ServerCore::ReloadConfig``'s order.

    Args:
        new: the config to apply.
        old: the config in force, or ``None`` at start-up.

    Raises:
        ServingStatusError: FAILED_PRECONDITION for an illegal transition (only list to list,
            or to an identical config, is allowed after the first config); INVALID_ARGUMENT
            for duplicate names, relative base paths, a changed platform.
    """
    if (
        old is not None
        and old.kind is not ConfigKind.NOT_SET
        and old != new
        and not (
            old.kind is ConfigKind.MODEL_CONFIG_LIST and new.kind is ConfigKind.MODEL_CONFIG_LIST
        )
    ):
        raise ServingStatusError(
            Code.FAILED_PRECONDITION,
            "Cannot transition to requested config. It is only legal to transition from one "
            "ModelConfigList to another.",
        )
    if new.kind is not ConfigKind.MODEL_CONFIG_LIST:
        return
    seen: set[str] = set()
    for spec in new.models:
        if spec.name in seen:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT,
                f"Illegal to list model {spec.name} multiple times in config list",
            )
        seen.add(spec.name)
    for spec in new.models:
        if _is_relative_path(spec.base_path):
            raise ServingStatusError(
                Code.INVALID_ARGUMENT,
                f"Expected model {spec.name} to have an absolute path or URI; "
                f"got base_path()={spec.base_path}",
            )
    if old is not None and old.kind is ConfigKind.MODEL_CONFIG_LIST:
        old_platforms = dict(_platforms(old))
        for index, spec in enumerate(new.models):
            if spec.name not in old_platforms:
                continue
            platform = _platform(spec.name, new.platform_choice(index))
            if platform != old_platforms[spec.name]:
                raise ServingStatusError(
                    Code.INVALID_ARGUMENT,
                    f"Illegal to change a model's platform. For model {spec.name} platform "
                    f"was {old_platforms[spec.name]} and new platform requested is {platform}",
                )


def validate_platforms(config: ModelServerConfig) -> None:
    """Checks made after labels are installed, when models are routed to their platform.

    Raises:
        CustomModelConfigError: for a ``custom_model_config`` (the binary aborts).
        ServingStatusError: INVALID_ARGUMENT for a missing, doubly set or unsupported platform.
    """
    if config.kind is ConfigKind.CUSTOM_MODEL_CONFIG:
        raise CustomModelConfigError()
    for index, spec in enumerate(config.models):
        platform = _platform(spec.name, config.platform_choice(index))
        if platform not in SUPPORTED_PLATFORMS:
            raise ServingStatusError(
                Code.INVALID_ARGUMENT,
                f"Model {spec.name} requests unsupported platform {platform}",
            )


def check_label_assignment(
    model_name: str,
    old_labels: Mapping[str, int],
    new_labels: Mapping[str, int],
    available_versions: Iterable[int],
    allow_unavailable: bool,
) -> None:
    """Whether a model's new labels may be installed (``UpdateModelVersionLabelMap``).

    A label must point at an AVAILABLE version, unless ``allow_unavailable``
    (``--allow_version_labels_for_unavailable_models``) is set and the label is new or keeps
    its version; moving an existing label always needs an AVAILABLE target.

    Args:
        model_name: the model, for the error text.
        old_labels: the model's labels currently in force (empty at start-up).
        new_labels: the labels of the config being applied, checked in their order.
        available_versions: the model's versions that are AVAILABLE now.
        allow_unavailable: the value of the flag.

    Raises:
        ServingStatusError: FAILED_PRECONDITION ``Request to assign label to version {v} of
            model {m}, which is not currently available for inference``.
    """
    available = set(available_versions)
    for label, version in new_labels.items():
        moved = label in old_labels and old_labels[label] != version
        if allow_unavailable and not moved:
            continue
        if version not in available:
            raise ServingStatusError(
                Code.FAILED_PRECONDITION,
                f"Request to assign label to version {version} of model {model_name}, "
                "which is not currently available for inference",
            )
