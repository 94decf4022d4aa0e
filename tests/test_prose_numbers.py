"""Every number the prose states is shown by the notebook or is a sourced fact.

For each notebook (chapters and solutions), each number in a markdown cell must either
- be printed by an output of the same notebook, at the precision the prose gives it
  (prose 10.83 matches a printed 10.8276; prose 38,597,376 matches a printed 38597376), or
- be written in one of its code cells (a setting the reader can see: a seed, a batch size), or
- be listed for that notebook in notebooks/sourced_facts.toml, with its source.
README.md and docs/teaching.md are held to the same rule against the outputs of all notebooks.

What counts as a number: integers with thousands separators (5,368), decimals (0.0039),
percentages (33 %), ratios (20×), powers written with superscripts (10⁴), and any other
integer from 100 up except years (1900-2099). Section references are written §4.4 and are
not numbers; neither are link targets, heading numbers or small integers such as 3 in "3D".
"""

from __future__ import annotations

import json
import re
import tomllib
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tools.series import NOTEBOOK_DIR, REPO_ROOT, all_notebooks

FACTS_FILE = NOTEBOOK_DIR / "sourced_facts.toml"
NOTEBOOKS = all_notebooks()
DOCUMENTS = {"README": REPO_ROOT / "README.md", "teaching": REPO_ROOT / "docs" / "teaching.md"}

SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
NUMBER = re.compile(
    r"(?<![\w.])(?:"
    r"(?P<power>10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)"
    r"|(?P<value>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+)"
    r"(?P<unit>\s?%|\s?×(?!\s?\d))?"
    r")(?![\w])"
)
SHOWN_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _strip_non_numbers(text: str) -> str:
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"<[^>]+>", " ", text)  # HTML tags
    text = re.sub(r"https?://\S+", " ", text)  # addresses and ports
    text = re.sub(r"\d+(\.\d+){2,}", "", text)  # versions and addresses: 2.13.0, 127.0.0.1
    versions = r"\b(Python|python|PYTHON=python)\s?\d+(\.\d+)*((,|,? or|,? and| to|–)\s*\d+\.\d+(\.\d+)*)*"
    text = re.sub(versions, "", text)  # Python 3.11, 3.12 or 3.13
    text = re.sub(r"^#+ \d+(\.\d+)*", "#", text, flags=re.MULTILINE)  # heading numbers
    text = re.sub(r"(§§?|\bsections?|\bSections?)\s*\d+(\.\d+)*((,|–|-| and | or )\s*§?\d+(\.\d+)*)*", "§", text)
    return text


def stated_numbers(text: str):
    """(as written, value, decimals) for every number in a piece of prose."""
    found = []
    for match in NUMBER.finditer(_strip_non_numbers(text)):
        if match["power"]:
            written = match["power"]
            value = Decimal(10) ** int(written[2:].translate(SUPERSCRIPTS))
            found.append((written, value, 0))
            continue
        written = match["value"]
        plain = written.replace(",", "")
        value = Decimal(plain)
        decimals = len(plain.split(".")[1]) if "." in plain else 0
        if match["unit"] or "," in written or decimals:
            found.append((match.group(0).strip(), value, decimals))
        elif value >= 100 and not (1900 <= value <= 2099 and len(plain) == 4):
            found.append((written, value, 0))
    return found


def shown_numbers(texts) -> set[Decimal]:
    shown = set()
    for text in texts:
        for token in SHOWN_NUMBER.findall(text):
            shown.add(Decimal(token.replace(",", "")))
    return shown


def matches(value: Decimal, decimals: int, shown: set[Decimal]) -> bool:
    step = Decimal(1).scaleb(-decimals)
    return any(
        y.quantize(step, rounding=rounding) == value for y in shown for rounding in (ROUND_HALF_UP, ROUND_HALF_EVEN)
    )


def notebook_texts(path: Path):
    """(markdown cells as (index, text), shown texts: outputs and code)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    markdown, shown = [], []
    for index, cell in enumerate(nb["cells"]):
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            markdown.append((index, text))
            continue
        if cell["cell_type"] != "code":
            continue
        shown.append(text)
        for output in cell.get("outputs", []):
            shown.append("".join(output.get("text", "")))
            data = output.get("data", {})
            shown.append("".join(data.get("text/plain", "")) + "".join(data.get("text/html", "")))
            shown.append(output.get("evalue", ""))
    return markdown, shown


def facts() -> dict[str, dict[str, str]]:
    return tomllib.loads(FACTS_FILE.read_text(encoding="utf-8"))


def unbacked(name: str, pieces, shown: set[Decimal]):
    listed = facts().get(name, {})
    problems, used = [], set()
    for where, text in pieces:
        for written, value, decimals in stated_numbers(text):
            if written in listed:
                used.add(written)
            elif not matches(value, decimals, shown):
                line = next(line for line in text.splitlines() if written in line or written.split()[0] in line)
                problems.append(
                    f"{name}, {where}: {written!r} is neither printed nor a sourced fact: {line.strip()[:160]}"
                )
    for written in sorted(set(listed) - used):
        problems.append(f"{name}: sourced fact {written!r} is listed but no longer stated; remove it")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_number_in_the_prose_is_printed_or_sourced(path):
    markdown, shown = notebook_texts(path)
    problems = unbacked(path.stem, [(f"cell {i}", text) for i, text in markdown], shown_numbers(shown))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_readme_and_the_guide_state_only_printed_or_sourced_numbers(name):
    shown = set()
    for path in NOTEBOOKS:
        shown |= shown_numbers(notebook_texts(path)[1])
    text = DOCUMENTS[name].read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # commands, not claims
    pieces = [(f"line {n}", line) for n, line in enumerate(text.splitlines(), 1)]
    problems = unbacked(name, pieces, shown)
    assert not problems, "\n".join(problems)


def test_every_sourced_fact_names_its_source():
    for name, listed in facts().items():
        assert name in DOCUMENTS or name in {p.stem for p in NOTEBOOKS}, name
        for written, source in listed.items():
            assert len(source.strip()) >= 15, f"{name}: {written!r} needs a source: paper, model card or book section"


def test_the_rule_finds_what_it_should():
    found = [
        w
        for w, _, _ in stated_numbers(
            "GPT-2 (Radford et al., 2019) has 1,024 rows, std 0.02, 33 %, 20× faster, "
            "10⁴ times; see §4.4 and sections 7.2–7.3; 50257 × 256; 3D; 8 heads"
        )
    ]
    assert found == ["1,024", "0.02", "33 %", "20×", "10⁴", "50257", "256"]
    shown = shown_numbers(["loss 10.8276, count 38,597,376, 0.00390625"])
    assert matches(Decimal("10.83"), 2, shown) and matches(Decimal("38597376"), 0, shown)
    assert matches(Decimal("0.0039"), 4, shown) and not matches(Decimal("10.82"), 2, shown)
