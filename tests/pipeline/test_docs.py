"""The README and docs/ name files that exist and code that imports.

Docs go stale quietly when modules and tests move; these tests fail instead. A path written in
backticks (``fashion/...``, ``tests/...``, ``benchmarks/...``, ``.ci/...``, ``.github/...``,
``docs/...``) must exist in the checkout, except on a line that names a commit (a run's history
names the paths of its time). A dotted name under ``fashion.`` must import, attribute by
attribute. The README's Python blocks must compile.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_PATH = re.compile(r"`((?:fashion|tests|benchmarks|docs|\.ci|\.github)/[^`\s]*)`")
_DOTTED = re.compile(r"`(fashion(?:\.[A-Za-z_]\w*)+)")
_COMMIT = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")
_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _lines(document: Path) -> list[tuple[int, str]]:
    return [
        (number, line)
        for number, line in enumerate(document.read_text().splitlines(), start=1)
        if not _COMMIT.search(line)
    ]


def _ids(documents: list[Path]) -> list[str]:
    return [str(document.relative_to(ROOT)) for document in documents]


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_every_path_named_exists(document: Path) -> None:
    missing = []
    for number, line in _lines(document):
        for named in _PATH.findall(line):
            path = named.split("::")[0].rstrip(".,:;")
            if "*" in path or "<" in path or "..." in path:
                continue  # a pattern, not a path
            if not (ROOT / path).exists():
                missing.append(f"line {number}: {named}")
    assert missing == []


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


@pytest.mark.parametrize("document", DOCUMENTS, ids=_ids(DOCUMENTS))
def test_every_dotted_name_imports(document: Path) -> None:
    unresolved = [
        f"line {number}: {dotted}"
        for number, line in _lines(document)
        for dotted in _DOTTED.findall(line)
        if not _resolves(dotted)
    ]
    assert unresolved == []


@pytest.mark.parametrize("document", ["README.md", "docs/check.md"])
def test_the_python_blocks_compile_and_import_what_exists(document: str) -> None:
    blocks = _PYTHON_BLOCK.findall((ROOT / document).read_text())
    assert blocks, f"{document} shows Python"
    for block in blocks:
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module.startswith("fashion"):
                module = importlib.import_module(node.module)
                assert all(hasattr(module, alias.name) for alias in node.names), ast.unparse(node)
