"""How two runs of a notebook differ: the one place where the tools compare stored outputs.

- `differences(a, b)`: the code cells whose outputs differ at all, PNG bytes included (flake check).
- `nbval_failures(report)`: the cells nbval failed on, from its JUnit XML, with nbval's own diff
  (mutation check, portability check).
- `cell_changes(old, new)`: for each changed cell, the old and new text, a short diff, whether only
  the last printed digit moved, and which figures' PNG changed (drift report).

Cells tagged nbval-ignore-output (timings) are left out everywhere, as nbval leaves them out.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tools.series import code_cells, compared_text, ignore_reason, read, source

PNG = "image/png"
ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*m")  # junit writes ESC as the text "#x1B"
# A printed number: digits, an optional fraction, an optional exponent ("1,234" is read as 1 and 234).
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.IGNORECASE)


def outputs_by_cell(path: Path) -> dict[int, str]:
    """Every compared code cell's outputs, serialised, by code-cell index."""
    return {
        i: json.dumps(c["outputs"], sort_keys=True)
        for i, c in enumerate(code_cells(read(path)))
        if ignore_reason(c) is None
    }


def differences(a: Path, b: Path) -> list[int]:
    """Code-cell indices whose outputs differ in any way between two runs of one notebook."""
    left, right = outputs_by_cell(a), outputs_by_cell(b)
    return sorted(i for i in left.keys() | right.keys() if left.get(i) != right.get(i))


# ---- nbval's verdicts ---------------------------------------------------------------------------


def nbval_failures(report: Path) -> dict[tuple[str, int], str]:
    """{(notebook, code-cell index): what nbval said} for every cell that failed or errored.

    The notebook is the JUnit classname nbval writes ("notebooks.solutions.07_x_solutions.ipynb")."""
    failed = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            continue
        match = re.search(r"Cell (\d+)", case.get("name", ""))
        if match:
            text = problem.text or problem.get("message", "")
            failed[(case.get("classname", ""), int(match.group(1)))] = ANSI.sub("", text)
    return failed


def nbval_cells(report: Path) -> dict[str, int]:
    """{notebook (JUnit classname): how many of its cells nbval checked}."""
    counts: dict[str, int] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        if re.search(r"Cell \d+", case.get("name", "")):
            counts[case.get("classname", "")] = counts.get(case.get("classname", ""), 0) + 1
    return counts


def nbval_diff(message: str, max_lines: int = 12) -> str:
    """The part of nbval's failure message that says how the output differs (its assertion diff),
    or, for a cell that raised, the error; at most max_lines lines."""
    _, _, after = message.partition("Traceback:")
    lines = textwrap.dedent("\n".join(line.rstrip() for line in (after or message).splitlines() if line.strip()))
    lines = lines.splitlines()
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"... ({len(lines) - max_lines} more lines)"]
    if "mismatch" in (after or message):  # pytest's diff of `stored == this run` marks the stored side +
        lines.insert(0, "(nbval's diff: '+' the stored output, '-' this run)")
    return "\n".join(lines)


# ---- drift: what changed, and by how much -------------------------------------------------------


def cell_text(cell) -> str:
    """What a reader sees of a cell's outputs as text: streams, results, errors; other text formats
    (HTML, SVG) are added under a heading so that a change in them is seen too."""
    parts = []
    for output in cell.get("outputs", []):
        text = compared_text(output)
        if output["output_type"] == "error":
            text = f"{output['ename']}: {text}"
        parts.append(text if text.endswith("\n") or not text else text + "\n")
        for mime, value in sorted(output.get("data", {}).items()):
            if mime not in ("text/plain", PNG):
                parts.append(f"[{mime}]\n{''.join(value)}\n")
    return "".join(parts)


def pngs(cell) -> list[str]:
    """The base64 PNG of each figure the cell shows, in order."""
    return ["".join(o["data"][PNG]).strip() for o in cell.get("outputs", []) if PNG in o.get("data", {})]


def _last_place(number: str) -> Decimal:
    """The value of one unit in the last printed place: 0.01 for "3.14", 1e-09 for "6.0e-08"."""
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return Decimal(1).scaleb(-decimals + int(exponent or 0))


def size_of_change(old: str, new: str) -> str:
    """'last digit' if the two texts differ only in numbers that moved by at most one unit in their last
    printed place (column widths aside), else 'larger'."""
    old_numbers, new_numbers = NUMBER.findall(old), NUMBER.findall(new)

    def skeleton(text: str) -> list[str]:
        return [" ".join(part.split()) for part in NUMBER.split(text)]

    if skeleton(old) != skeleton(new) or len(old_numbers) != len(new_numbers):
        return "larger"
    for a, b in zip(old_numbers, new_numbers):
        if a == b:
            continue
        if _last_place(a) != _last_place(b) or abs(Decimal(a) - Decimal(b)) > _last_place(a):
            return "larger"
    return "last digit"


def short_diff(old: str, new: str, max_lines: int = 20) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "stored", "new", n=0, lineterm=""))
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"... ({len(lines) - max_lines} more lines)"]
    return "\n".join(lines)


@dataclass
class CellChange:
    index: int  # code-cell index, as nbval numbers cells
    old: str
    new: str
    size: str | None  # 'last digit', 'larger', or None if the text did not change
    figures: list[int] = field(default_factory=list)  # 1-based: which of the cell's figures changed

    @property
    def diff(self) -> str:
        return short_diff(self.old, self.new)


def cell_changes(old_path: Path, new_path: Path) -> list[CellChange]:
    """Every compared code cell whose text or figures differ between a stored and a new run."""
    old_cells, new_cells = code_cells(read(old_path)), code_cells(read(new_path))
    if len(old_cells) != len(new_cells):
        raise ValueError(f"{new_path} has {len(new_cells)} code cells, {old_path} has {len(old_cells)}")
    changes = []
    for index, (old, new) in enumerate(zip(old_cells, new_cells)):
        if ignore_reason(old) is not None:
            continue
        old_text, new_text = cell_text(old), cell_text(new)
        old_png, new_png = pngs(old), pngs(new)
        figures = [k + 1 for k in range(max(len(old_png), len(new_png))) if old_png[k : k + 1] != new_png[k : k + 1]]
        size = None if old_text == new_text else size_of_change(old_text, new_text)
        if size or figures:
            changes.append(CellChange(index, old_text, new_text, size, figures))
    return changes


# ---- how a report shows the changes --------------------------------------------------------------


def fenced(text: str, language: str = "") -> str:
    """A markdown code block of the text, or a note that there is none."""
    return f"```{language}\n{text.rstrip()}\n```" if text.strip() else "*(no text output)*"


def change_lines(notebook: Path, changes: list[CellChange], new_label: str, heading: str = "###") -> list[str]:
    """Markdown for each changed cell of a notebook (drift, Colab reports): its first line, the stored and the
    new text with a diff, and which of its figures changed."""
    cells, lines = code_cells(read(notebook)), []
    for change in changes:
        first_line = source(cells[change.index]).strip().splitlines()[0][:80]
        lines += [f"{heading} Cell {change.index} — `{first_line}`", ""]
        if change.size is not None:
            lines += [f"Text changed: **{change.size}**.", "", "Stored:", "", fenced(change.old), ""]
            lines += [f"{new_label}:", "", fenced(change.new), "", "Diff:", "", fenced(change.diff, "diff"), ""]
        if change.figures:
            figures = ", ".join(str(k) for k in change.figures)
            lines += [f"PNG changed: figure {figures} of this cell (the base64 PNG bytes differ).", ""]
    return lines
