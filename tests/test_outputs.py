"""tools/outputs.py: how the tools tell two runs of a notebook apart (drift report, nbval's verdicts)."""

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tools.outputs import cell_changes, nbval_cells, nbval_diff, nbval_failures, size_of_change


@pytest.mark.parametrize(
    "old, new",
    [
        ("loss 0.1234\n", "loss 0.1235\n"),  # one unit in the last place
        ("loss 0.1299\n", "loss 0.1300\n"),  # a carry is still one unit in the last place
        ("tensor([ 0.5000, 1.2500])\n", "tensor([0.5000,  1.2501])\n"),  # column widths aside
        ("mean 1.5e-03\n", "mean 1.6e-03\n"),  # the last digit of the mantissa
    ],
)
def test_a_move_of_one_unit_in_the_last_printed_place_is_last_digit(old, new):
    assert size_of_change(old, new) == "last digit"


@pytest.mark.parametrize(
    "old, new",
    [
        ("loss 0.1234\n", "loss 0.1236\n"),  # two units
        ("change 6.0e-08\n", "change 3.0e-08\n"),  # 30 units of the mantissa
        ("loss 0.12\n", "loss 0.123\n"),  # another number of decimals
        ("mean 1.5e-03\n", "mean 1.5e-04\n"),  # another exponent
        ("equal: True\n", "equal: False\n"),  # text, not a number
        ("1.0 2.0\n", "1.0 2.0 3.0\n"),  # another count of numbers
        ("tensor([ 1.5000])\n", "tensor([-1.5000])\n"),  # a sign
    ],
)
def test_anything_else_is_larger(old, new):
    assert size_of_change(old, new) == "larger"


def _notebook(path, cells):
    """cells: (stdout text, png base64 or None, tags) per code cell."""
    nb = new_notebook()
    for index, (text, png, tags) in enumerate(cells):
        cell = new_code_cell(f"cell_{index}()", metadata={"tags": tags} if tags else {})
        cell.outputs = [new_output("stream", name="stdout", text=text)]
        if png is not None:
            cell.outputs.append(new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}))
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return nb


def test_cell_changes_reports_changed_text_and_changed_figures_only(tmp_path):
    stored = _notebook(
        tmp_path / "stored.ipynb",
        [
            ("same\n", None, None),
            ("loss 0.1234\n", None, None),
            ("steps: 3\n", "iVBORw0KGgoAAAA", None),
            ("took 1.00 s\n", None, ["nbval-ignore-output"]),
        ],
    )
    new = copy.deepcopy(stored)
    new.cells[1].outputs[0].text = "loss 0.1235\n"
    new.cells[2].outputs[1].data["image/png"] = "iVBORw0KGgoBBBB"
    new.cells[3].outputs[0].text = "took 2.00 s\n"  # a timing: not compared, as nbval does not
    nbformat.write(new, tmp_path / "new.ipynb")

    changes = cell_changes(tmp_path / "stored.ipynb", tmp_path / "new.ipynb")

    assert [c.index for c in changes] == [1, 2]
    text, figure = changes
    assert (text.old, text.new, text.size, text.figures) == ("loss 0.1234\n", "loss 0.1235\n", "last digit", [])
    assert "-loss 0.1234" in text.diff and "+loss 0.1235" in text.diff
    assert (figure.size, figure.figures) == (None, [1])


def test_a_figure_that_appears_or_disappears_counts_as_changed(tmp_path):
    _notebook(tmp_path / "stored.ipynb", [("x\n", "iVBORw0KGgoAAAA", None)])
    _notebook(tmp_path / "new.ipynb", [("x\n", None, None)])
    [change] = cell_changes(tmp_path / "stored.ipynb", tmp_path / "new.ipynb")
    assert change.figures == [1]


def test_notebooks_with_other_cells_cannot_be_compared(tmp_path):
    _notebook(tmp_path / "stored.ipynb", [("a\n", None, None), ("b\n", None, None)])
    _notebook(tmp_path / "new.ipynb", [("a\n", None, None)])
    with pytest.raises(ValueError, match="1 code cells"):
        cell_changes(tmp_path / "stored.ipynb", tmp_path / "new.ipynb")


# A JUnit report as nbval writes it through pytest: ESC is stored as the text "#x1B".
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" tests="4">
<testcase classname="notebooks.01_a.ipynb" name="Cell 0" time="1.0"/>
<testcase classname="notebooks.01_a.ipynb" name="Cell 1" time="0.1">
<failure message="#x1B[91mNotebook cell execution failed#x1B[0m">#x1B[94mCell 1: Cell outputs differ
Input:
#x1B[0mprint(x)
#x1B[94mTraceback:#x1B[0m
#x1B[94m mismatch 'stdout'#x1B[91m
  - change 6.0e-08
  + change 3.0e-08
#x1B[0m</failure></testcase>
<testcase classname="notebooks.solutions.01_a_solutions.ipynb" name="Cell 0" time="0.1">
<error message="boom">KeyError: 'x'</error></testcase>
<testcase classname="notebooks.solutions.01_a_solutions.ipynb" name="Cell 1" time="0.1"/>
</testsuite></testsuites>
"""


def test_nbval_failures_names_each_failing_cell_with_its_diff(tmp_path):
    report = tmp_path / "nbval.xml"
    report.write_text(JUNIT, encoding="utf-8")

    failures = nbval_failures(report)

    assert sorted(failures) == [("notebooks.01_a.ipynb", 1), ("notebooks.solutions.01_a_solutions.ipynb", 0)]
    diff = nbval_diff(failures[("notebooks.01_a.ipynb", 1)])
    assert [line.strip() for line in diff.splitlines()] == [
        "(nbval's diff: '+' the stored output, '-' this run)",
        "mismatch 'stdout'",
        "- change 6.0e-08",
        "+ change 3.0e-08",
    ]
    assert "#x1B" not in diff
    assert nbval_diff(failures[("notebooks.solutions.01_a_solutions.ipynb", 0)]) == "KeyError: 'x'"
    assert nbval_cells(report) == {"notebooks.01_a.ipynb": 2, "notebooks.solutions.01_a_solutions.ipynb": 2}
