"""The committed notebooks, read as files: the series' outline, links and stored-output rules."""

import re

import pytest

from tools.series import (
    IGNORE_OUTPUT,
    all_notebooks,
    chapters,
    code_cells,
    execution_problems,
    ignore_reason,
    markdown,
    solution_for,
    solutions,
    source,
    tags,
)
from tools.series import read as load

NOTEBOOKS = chapters()
IGNORE_MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")


def test_there_are_notebooks_numbered_from_01_without_gaps():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers[:4] == [1, 2, 3, 4]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_executed_top_to_bottom_with_python3_kernel(path):
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert not execution_problems(nb), "\n".join(execution_problems(nb)) + "\nregenerate with make regen"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_only_timings_are_hidden_from_nbval_each_with_a_reason(path):
    for cell in code_cells(load(path)):
        text = source(cell)
        assert not any(m in text for m in IGNORE_MARKERS), "use the nbval-ignore-output tag, with a reason"
        assert "nbval-skip" not in tags(cell), text[:200]
        if ignore_reason(cell) is not None:
            first_line = text.splitlines()[0]
            assert re.match(rf"# {IGNORE_OUTPUT}: \S.{{10,}}", first_line), "say why on the first line"
            printed = "".join(
                "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"]
            )
            assert "tensor(" not in printed and "torch.Size" not in printed, "a printed tensor must be compared"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outline(path):
    nb = load(path)
    text = markdown(nb)
    number = path.name[:2]
    first = source(nb["cells"][0])
    assert first.startswith(f"# {number} · "), "title: '# NN · Title'"
    for heading in ["**You will learn**", "**Prerequisites:**", "## Summary", "## Exercises"]:
        assert heading in text, heading
    sections = re.findall(rf"^## {int(number)}\.(\d+) ", text, flags=re.MULTILINE)
    assert sections and [int(s) for s in sections] == list(range(1, len(sections) + 1))
    exercises = text.split("## Exercises", 1)[1].split("---", 1)[0]
    assert 2 <= len(re.findall(r"^\d+\. ", exercises, flags=re.MULTILINE)) <= 4
    summary = text.split("## Summary", 1)[1].split("## Exercises", 1)[0]
    assert 3 <= len(re.findall(r"^- ", summary, flags=re.MULTILINE)) <= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_footer_links_previous_index_and_next(path):
    nb = load(path)
    footer = source(nb["cells"][-1]).rsplit("---", 1)[1]
    links = re.findall(r"\]\(([^)]+)\)", footer)
    index = NOTEBOOKS.index(path)
    expected = ([NOTEBOOKS[index - 1].name] if index > 0 else []) + ["index.ipynb"]
    expected += [NOTEBOOKS[index + 1].name] if index + 1 < len(NOTEBOOKS) else []
    assert links == expected
    top_navigation = source(nb["cells"][0]).splitlines()[2]
    assert re.findall(r"\]\(([^)]+)\)", top_navigation) == expected
    for link in re.findall(r"\]\(([^)#:]+\.(?:ipynb|md))\)", markdown(nb)):  # links within the series
        assert (path.parent / link).resolve().is_file(), f"broken link {link}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_random_layer_is_seeded_earlier_in_the_same_cell(path):
    for cell in code_cells(load(path)):
        lines = source(cell).splitlines()
        for i, line in enumerate(lines):
            if re.search(r"torch\.nn\.(Embedding|Linear)\(", line):
                before = "\n".join(lines[:i])
                assert "torch.manual_seed(" in before, f"unseeded layer: {line.strip()}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_a_figure_and_the_figure_switch(path):
    nb = load(path)
    set_up = code_cells(nb)[1]  # the first is the Colab set-up cell (tests/test_repository_address.py)
    assert source(set_up).startswith("%matplotlib inline\n")
    assert "# %matplotlib widget" in source(set_up)
    pngs = [o for c in code_cells(nb) for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert pngs, "no figure"
    for cell in code_cells(nb):
        for out in cell["outputs"]:
            assert "<matplotlib." not in "".join(out.get("data", {}).get("text/plain", "")), (
                "end plot cells with plt.show()"
            )


SHARED_DEFINITIONS = [
    "class GPTDatasetV1",
    "def create_dataloader_v1",
    "def seed_tiktoken_cache",
    "def draw_",
    "def sinusoidal_encoding",
    "def shift_matrix",
    "def rope_",
    "def check_answer",
    "def fastest_block",
]


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_shared_code_is_imported_not_copied(path):
    for cell in code_cells(load(path)):
        text = source(cell)
        for definition in SHARED_DEFINITIONS:
            assert definition not in text, f"{definition}: import it from embeddings_course"


def test_every_chapter_has_a_solutions_notebook():
    assert solutions() == [solution_for(p) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solutions_answer_every_exercise(path):
    solutions = load(solution_for(path))
    chapter = load(path)
    exercises = markdown(chapter).split("## Exercises", 1)[1].split("---", 1)[0]
    n_exercises = len(re.findall(r"^\d+\. ", exercises, flags=re.MULTILINE))
    headings = re.findall(r"^### Exercise (\d+)", markdown(solutions), flags=re.MULTILINE)
    assert [int(h) for h in headings] == list(range(1, n_exercises + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_self_checks_are_confirmed_by_the_solutions(path):
    """Each self-check in a chapter is answered 'correct' by an independent computation in its solutions."""
    checks = re.findall(r'check_answer\("(\d\d\.\d[a-z]?)", None\)', "".join(source(c) for c in code_cells(load(path))))
    solution_outputs = "".join(
        "".join(o.get("text", "")) for c in code_cells(load(solution_for(path))) for o in c["outputs"]
    )
    for exercise in checks:
        confirmed = rf"^Exercise {re.escape(exercise)}, .*: correct\.$"
        assert re.search(confirmed, solution_outputs, flags=re.MULTILINE), exercise


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_has_a_slide_type_and_sections_start_slides(path):
    for index, cell in enumerate(load(path)["cells"]):
        kind = cell["metadata"].get("slideshow", {}).get("slide_type")
        assert kind in {"slide", "subslide", "fragment", "skip", "notes", "-"}, f"cell {index}"
        if cell["cell_type"] == "markdown":
            assert "\n## " not in source(cell), f"cell {index}: a section heading must start its own cell (and slide)"
            if re.match(r"## \d+\.\d+ |## Summary|## Exercises", source(cell)):
                assert kind == "slide", f"cell {index} starts a section but not a slide"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_every_figure_has_alternative_text(path):
    for cell in code_cells(load(path)):
        if any("image/png" in o.get("data", {}) for o in cell["outputs"]):
            assert cell["metadata"].get("figure_alt", "").startswith("Figure: "), source(cell)[:80]
