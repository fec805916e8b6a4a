"""The model on disk: which versions there are, and the layout rules each must follow.

TF Serving serves the integer-named children of a base path (``file_system_storage_path_source.cc``)
and loads each with the SavedModel loader, which needs ``saved_model.pb`` (or ``.pbtxt``), a
MetaGraph tagged ``serve``, and ``variables/`` when the graph has variables to restore
(``loader.cc``: with no ``variables.index`` it restores nothing and says so, and the first run
then fails). Each rule broken gets a row that names it. The file-system rules run before any
server starts and import nothing heavy; :func:`read_meta_graph` parses ``saved_model.pb`` (and
imports TensorFlow's protos) while the server starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fashion.check.options import CheckInputError
from fashion.check.report import CheckRow, Result
from fashion.serving.models.discovery import parse_version

if TYPE_CHECKING:
    from tensorflow.core.protobuf import meta_graph_pb2

__all__ = ["SERVE_TAGS", "ModelLayout", "find_versions", "read_meta_graph"]

_PB = "saved_model.pb"
_PBTXT = "saved_model.pbtxt"
#: The MetaGraph TF Serving loads unless ``--saved_model_tags`` says otherwise.
SERVE_TAGS = ("serve",)
_SHARD = re.compile(r"^variables\.data-(\d+)-of-(\d+)$")
# Names exporters and copy tools give a directory that is still being written.
_TEMPORARY = re.compile(r"^[.~_]|tmp|temp|partial|incomplete|staging|export-", re.IGNORECASE)
_ATOMIC_EXPORT = (
    "Export atomically: write the version under a temporary name beside it and rename it into "
    "place when complete (fashion.export.export_version does), because TF Serving loads an "
    "integer-named directory the moment it appears."
)
_VARIABLE_OPS = frozenset({"VarHandleOp", "VariableV2", "Variable"})


@dataclass
class ModelLayout:
    """The versions found under the checked path, and the layout rows.

    Attributes:
        path: the checked path, absolute.
        model_name: the name to serve the model under.
        versions: version number -> directory, for every version whose files passed the rules.
        rows: one row per version (PASS or the broken rule), plus warnings.
        single_version: the path was one version directory rather than a base path.
    """

    path: Path
    model_name: str
    versions: dict[int, Path] = field(default_factory=dict)
    rows: list[CheckRow] = field(default_factory=list)
    single_version: bool = False

    @property
    def broken(self) -> bool:
        """Whether a rule is broken (a FAIL row), so no server should be started."""
        return any(row.result is Result.FAIL for row in self.rows)


def _is_saved_model_dir(path: Path) -> bool:
    return any((path / name).exists() for name in (_PB, _PBTXT, "variables"))


def find_versions(path: str | Path, model_name: str | None = None) -> ModelLayout:
    """Apply the file-system rules to a base path or a single version directory.

    Args:
        path: a model base path (integer version directories) or one version directory.
        model_name: the name to serve under; default: the base path's directory name.

    Raises:
        CheckInputError: the path does not exist, is not a directory, or holds no model.
    """
    given = Path(path).expanduser()
    if not given.exists():
        raise CheckInputError(f"{path}: no such file or directory")
    if not given.is_dir():
        raise CheckInputError(
            f"{path}: not a directory (expected a model base path or a SavedModel directory)"
        )
    root = given.absolute()
    if _is_saved_model_dir(root):
        version = parse_version(root.name)
        number = version if version is not None and version >= 0 else 1
        name = model_name or (root.parent.name if version is not None else root.name)
        layout = ModelLayout(root, _model_name(name), single_version=True)
        unreadable = _wire_problem(root / _PB) if (root / _PB).is_file() else ""
        if unreadable:
            raise CheckInputError(f"{root / _PB}: unreadable SavedModel ({unreadable})")
        _check_version(layout, number, root)
        return layout
    layout = ModelLayout(root, _model_name(model_name or root.name))
    children = sorted(child for child in root.iterdir() if child.is_dir())
    candidates = [c for c in children if parse_version(c.name) is not None]
    strays = [c for c in children if c not in candidates and _is_saved_model_dir(c)]
    if not candidates and not strays:
        raise CheckInputError(
            f"{path}: not a model: no saved_model.pb here and no integer version directories "
            "below (expected BASE/1/saved_model.pb or a SavedModel directory)"
        )
    for stray in strays:
        layout.rows.append(_stray_row(stray))
    seen: dict[int, Path] = {}
    for child in candidates:
        number = parse_version(child.name)
        assert number is not None
        if number < 0 or child.name != str(number):
            layout.rows.append(_odd_name_row(child, number, seen))
            if number < 0 or number in seen:
                continue
        seen[number] = child
    for number, child in sorted(seen.items()):
        _check_version(layout, number, child)
    if not seen:
        layout.rows.append(
            CheckRow(
                "",
                "layout: integer version names",
                Result.FAIL,
                detail=f"{root} has no integer-named version directory, so TF Serving serves "
                "nothing from it. Put each SavedModel in a directory named by its version "
                f"number: {root}/1/saved_model.pb.",
            )
        )
    return layout


def _model_name(name: str) -> str:
    return name.strip() or "model"


def _stray_row(stray: Path) -> CheckRow:
    if _TEMPORARY.search(stray.name):
        return CheckRow(
            "",
            "layout: half-written temporary directory",
            Result.WARN,
            detail=f"{stray.name}/ looks like an export in progress or one that was interrupted. "
            "TF Serving ignores it (the name is not an integer); delete it once nothing is "
            "writing it.",
        )
    return CheckRow(
        "",
        "layout: integer version names",
        Result.FAIL,
        detail=f"{stray.name}/ holds a SavedModel, but TF Serving only serves directories named "
        f"by an integer version, so it is never served. Rename it to a version number, e.g. "
        f"{stray.parent}/1.",
    )


def _odd_name_row(child: Path, number: int, seen: dict[int, Path]) -> CheckRow:
    if number < 0:
        detail = f"{child.name}/ is a negative version; versions are positive integers."
        return CheckRow("", "layout: integer version names", Result.FAIL, detail=detail)
    detail = f"TF Serving reads {child.name!r} as version {number}; name it {str(number)!r}."
    if number in seen:
        detail += f" It duplicates {seen[number].name}/, and TF Serving serves only one of them."
    return CheckRow("", "layout: integer version names", Result.WARN, number, detail=detail)


def _check_version(layout: ModelLayout, number: int, directory: Path) -> None:
    problem = _file_problem(directory)
    if problem:
        layout.rows.append(
            CheckRow("", f"layout: {problem[0]}", Result.FAIL, number, detail=problem[1])
        )
        return
    layout.versions[number] = directory
    layout.rows.append(CheckRow("", "layout", Result.PASS, number))


def _file_problem(directory: Path) -> tuple[str, str] | None:
    """The first file rule ``directory`` breaks, as (rule, explanation), or None."""
    pb, pbtxt = directory / _PB, directory / _PBTXT
    if not pb.exists() and not pbtxt.exists():
        return (
            "saved_model.pb",
            f"half-written version: {directory} has no {_PB} or {_PBTXT} (an export interrupted "
            f"before its last file, or a directory that is not a SavedModel). {_ATOMIC_EXPORT}",
        )
    chosen = pb if pb.exists() else pbtxt
    if not chosen.is_file():
        return ("saved_model.pb", f"{chosen} is not a file")
    if chosen.stat().st_size == 0:
        return ("saved_model.pb", f"half-written version: {chosen} is empty. {_ATOMIC_EXPORT}")
    unreadable = _wire_problem(pb) if chosen == pb else ""
    if unreadable:
        return (
            "saved_model.pb",
            f"{pb}: {unreadable}: cut short by an interrupted export, or not a SavedModel. "
            f"{_ATOMIC_EXPORT}",
        )
    variables = directory / "variables"
    if not variables.is_dir():
        return None  # needed only when the graph has variables: read_meta_graph decides
    shards = [m for m in map(_SHARD.match, (p.name for p in variables.iterdir())) if m]
    has_index = (variables / "variables.index").is_file()
    if shards and not has_index:
        return (
            "variables/",
            f"half-written version: {variables} has data shards but no variables.index. "
            f"{_ATOMIC_EXPORT}",
        )
    if shards:
        total = int(shards[0].group(2))
        present = {int(m.group(1)) for m in shards if int(m.group(2)) == total}
        missing = [
            f"variables.data-{i:05d}-of-{total:05d}" for i in range(total) if i not in present
        ]
        if missing:
            return (
                "variables/",
                f"half-written version: {variables} lacks {', '.join(missing)}. {_ATOMIC_EXPORT}",
            )
    elif has_index:
        return (
            "variables/",
            f"half-written version: {variables} has variables.index but no variables.data-* "
            f"shard. {_ATOMIC_EXPORT}",
        )
    return None


def _wire_problem(pb: Path) -> str:
    """Why ``pb`` is not a complete protocol buffer, or "" (checked without TensorFlow).

    Parsing into ``Empty`` walks the top-level wire format and keeps every field as unknown: a
    file cut short, or not a protocol buffer at all, fails here, before any server starts.
    """
    from google.protobuf import empty_pb2, message

    try:
        empty_pb2.Empty().ParseFromString(pb.read_bytes())
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    except message.DecodeError as exc:
        # "Error parsing message with type 'google.protobuf.Empty': Wire format was corrupt"
        reason = str(exc).rsplit(": ", 1)[-1] or "truncated"
        return f"not a complete protocol buffer: {reason[:1].lower()}{reason[1:]}"
    return ""


def read_meta_graph(
    version: int,
    directory: Path,
    *,
    single_version: bool,
    tags: Sequence[str] = SERVE_TAGS,
) -> tuple[meta_graph_pb2.MetaGraphDef | None, CheckRow | None]:
    """Parse ``saved_model.pb`` and apply the rules that need its contents.

    Returns:
        The MetaGraph of ``tags`` (None when a rule is broken) and the broken rule's row.

    Raises:
        CheckInputError: ``directory`` is the one SavedModel given and it cannot be read at all.
    """
    from google.protobuf import message, text_format
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    source = directory / _PB
    try:
        if source.exists():
            saved_model.ParseFromString(source.read_bytes())
        else:
            source = directory / _PBTXT
            text_format.Parse(source.read_text(), saved_model)
    except (OSError, UnicodeDecodeError, message.DecodeError, text_format.ParseError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if single_version:
            raise CheckInputError(f"{source}: unreadable SavedModel ({reason})") from exc
        detail = (
            f"{source} cannot be read as a SavedModel ({reason}): cut short by an interrupted "
            f"export, or not a SavedModel. {_ATOMIC_EXPORT}"
        )
        return None, CheckRow("", "layout: saved_model.pb", Result.FAIL, version, detail=detail)
    for meta_graph in saved_model.meta_graphs:
        if set(meta_graph.meta_info_def.tags) == set(tags):
            return meta_graph, _variables_row(version, directory, meta_graph)
    found = [sorted(m.meta_info_def.tags) for m in saved_model.meta_graphs]
    detail = f"no MetaGraph tagged {list(tags)} (found {found}); " + (
        "TF Serving loads the 'serve' MetaGraph unless --saved_model_tags says otherwise "
        "(--server-flag=--saved_model_tags=...). tf.saved_model.save writes it."
        if tuple(tags) == SERVE_TAGS
        else "the server loads the MetaGraph whose tags are exactly those of --saved_model_tags."
    )
    return None, CheckRow("", "layout: serve tag", Result.FAIL, version, detail=detail)


def _variables_row(
    version: int, directory: Path, meta_graph: meta_graph_pb2.MetaGraphDef
) -> CheckRow | None:
    if (directory / "variables" / "variables.index").is_file():
        return None
    count = sum(node.op in _VARIABLE_OPS for node in meta_graph.graph_def.node)
    if not count or not meta_graph.saver_def.restore_op_name:
        return None
    detail = (
        f"{directory} has no variables/variables.index, but its graph has {count} variable(s) to "
        "restore: TF Serving's loader restores nothing and every run fails on an uninitialised "
        f"variable. Copy the whole SavedModel directory, variables/ included. {_ATOMIC_EXPORT}"
    )
    return CheckRow("", "layout: variables/", Result.FAIL, version, detail=detail)
