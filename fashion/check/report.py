"""What ``fashion check`` found: rows of results, and the table, JSON and JUnit XML made of them.

A report is plain data; nothing here prints. The CLI prints :meth:`CheckReport.table`, CI reads
:meth:`CheckReport.to_json` or :meth:`CheckReport.to_junit_xml` (one test case per row, written
with the standard library's ElementTree), and a test can fail with the table.
"""

from __future__ import annotations

import enum
import json
import math
import re
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CheckReport", "CheckRow", "Result", "printable"]

_COLUMNS = ("signature", "check", "result", "max abs diff", "p50 ms")
_DETAIL_WIDTH = 100


class Result(str, enum.Enum):
    """The verdict of one row. Only FAIL makes the whole check fail."""

    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"
    SKIP = "SKIP"


_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with what no terminal or XML document can hold written as escapes (``\\x00``,
    ``\\udcff``); tabs and line breaks stay."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


@dataclass(frozen=True)
class CheckRow:
    """One line of the table.

    Attributes:
        signature: the signature the row is about; "" for a row about a version or the model.
        check: what was checked (``layout``, ``predict row batch 4``, ``golden line 3``...).
        result: the verdict.
        version: the model version the row is about, if any.
        max_abs_diff: the largest absolute difference between served and in-process numbers.
        p50_ms: the median latency of the requests the row sent, in milliseconds.
        detail: why, for FAIL, WARN and SKIP rows (the error, the explanation and the fix).
        transport: ``rest`` or ``grpc`` for a row about what one API served (its check name
            says ``grpc`` too: ``predict grpc batch 4``), "" for the rest (layout, load,
            warnings, the in-process ``declared shapes``).
    """

    signature: str
    check: str
    result: Result
    version: int | None = None
    max_abs_diff: float | None = None
    p50_ms: float | None = None
    detail: str = ""
    transport: str = ""

    def __post_init__(self) -> None:
        # A server's error can quote the request's bytes: lone surrogates (bytes that were not
        # UTF-8) and control characters would stop the table's print and the JUnit XML.
        object.__setattr__(self, "detail", printable(self.detail))

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return {
            "version": self.version,
            "signature": self.signature,
            "check": self.check,
            "transport": self.transport or None,
            "result": self.result.value,
            "max_abs_diff": self.max_abs_diff,
            "p50_ms": self.p50_ms,
            "detail": self.detail,
        }


@dataclass
class CheckReport:
    """Every row of one ``fashion check`` run, and what it ran against.

    Attributes:
        path: the checked path, as given.
        model_name: the name the model was served under.
        server: one line on the model server (which one, its version, why it was chosen).
        rows: the results, in the order the checks ran.
        timings: seconds: ``to_available`` (server start to every version AVAILABLE),
            ``checks`` (the checks after that), ``total``.
    """

    path: str
    model_name: str
    server: str = ""
    rows: list[CheckRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no row FAILed (warnings and skips do not fail a check)."""
        return all(row.result is not Result.FAIL for row in self.rows)

    @property
    def exit_code(self) -> int:
        """The command's exit status: 0 when nothing FAILed, else 1."""
        return 0 if self.passed else 1

    def counts(self) -> Mapping[str, int]:
        """How many rows have each result."""
        found = Counter(row.result.value for row in self.rows)
        return {result.value: found.get(result.value, 0) for result in Result}

    def failures(self) -> list[CheckRow]:
        """The FAIL rows."""
        return [row for row in self.rows if row.result is Result.FAIL]

    def _multi_version(self) -> bool:
        return len({row.version for row in self.rows if row.version is not None}) > 1

    def _signature_cell(self, row: CheckRow) -> str:
        name = row.signature or "-"
        if row.version is not None and self._multi_version():
            return f"v{row.version} {name}"
        return name

    def table(self) -> str:
        """The readable table, then each row's details (why it failed, warned or was skipped; what
        a hot load saw), numbered as the rows are, then a summary line.

        Returns:
            Lines joined with newlines, without a trailing newline.
        """
        cells = [
            (
                self._signature_cell(row),
                row.check,
                row.result.value + (f" [{index}]" if row.detail else ""),
                _number(row.max_abs_diff),
                "" if row.p50_ms is None else f"{row.p50_ms:.1f}",
            )
            for index, row in enumerate(self.rows, start=1)
        ]
        widths = [max(len(c[i]) for c in [_COLUMNS, *cells]) for i in range(len(_COLUMNS))]
        lines = [_line(_COLUMNS, widths), _line(tuple("-" * w for w in widths), widths)]
        lines += [_line(c, widths) for c in cells]
        notes = [(index, row) for index, row in enumerate(self.rows, start=1) if row.detail]
        if notes:
            lines.append("")
        for index, row in notes:
            where = f"v{row.version} " if row.version is not None else ""
            what = f"{row.signature}: {row.check}" if row.signature else row.check
            head = f"[{index}] {row.result.value} {where}{what}:"
            lines.append(head)
            for paragraph in row.detail.splitlines():
                if paragraph.startswith("    "):  # code: never wrapped
                    lines.append("    " + paragraph)
                else:
                    lines.extend(
                        textwrap.wrap(
                            paragraph,
                            _DETAIL_WIDTH,
                            initial_indent="    ",
                            subsequent_indent="    ",
                            break_long_words=False,
                            break_on_hyphens=False,
                        )
                        or [""]
                    )
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: the verdict, the counts, and the timings."""
        counts = self.counts()
        verdict = "PASS" if self.passed else "FAIL"
        parts = [f"{counts[r.value]} {r.value.lower()}" for r in Result if counts[r.value]]
        line = f"{verdict}: {', '.join(parts) or 'nothing checked'}"
        times = [
            f"{label} {self.timings[key]:.1f} s"
            for key, label in (
                ("to_available", "AVAILABLE after"),
                ("checks", "checks"),
                ("total", "total"),
            )
            if key in self.timings
        ]
        return line + (f" ({', '.join(times)})" if times else "")

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "path": self.path,
            "model_name": self.model_name,
            "server": self.server,
            "passed": self.passed,
            "counts": dict(self.counts()),
            "timings": dict(self.timings),
            "rows": [row.as_dict() for row in self.rows],
        }

    def to_json(self) -> str:
        """The report as a JSON document (non-finite numbers written as null)."""
        return json.dumps(_finite(self.as_dict()), indent=2) + "\n"

    def to_junit_xml(self) -> str:
        """The report as JUnit XML: one ``testcase`` per row.

        FAIL rows carry a ``failure``, SKIP rows ``skipped``; WARN rows pass, with the warning in
        ``system-out`` so CI pages show it. A row about one API has a ``transport`` property.
        """
        counts = self.counts()
        suites = ET.Element("testsuites")
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"fashion check {self.path}",
            tests=str(len(self.rows)),
            failures=str(counts[Result.FAIL.value]),
            errors="0",
            skipped=str(counts[Result.SKIP.value]),
            time=f"{self.timings.get('total', 0.0):.3f}",
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (("model_name", self.model_name), ("server", self.server)):
            ET.SubElement(properties, "property", name=name, value=value)
        for row in self.rows:
            version = f"v{row.version}." if row.version is not None else ""
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"fashion.check.{self.model_name}.{version}{row.signature or 'model'}",
                name=row.check,
                time=f"{(row.p50_ms or 0.0) / 1000:.4f}",
            )
            if row.transport:  # as pytest's record_property writes a test case's properties
                properties = ET.SubElement(case, "properties")
                ET.SubElement(properties, "property", name="transport", value=row.transport)
            first_line = row.detail.splitlines()[0] if row.detail else row.result.value
            if row.result is Result.FAIL:
                failure = ET.SubElement(case, "failure", message=first_line, type="FAIL")
                failure.text = row.detail
            elif row.result is Result.SKIP:
                ET.SubElement(case, "skipped", message=first_line)
            elif row.result is Result.WARN:
                ET.SubElement(case, "system-out").text = f"WARN: {row.detail}"
        ET.indent(suites)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "0"
    return f"{value:.3g}"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
