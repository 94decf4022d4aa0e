"""make test's start order (tools/longest_first.py): slow notebooks first, and nothing left out."""

import subprocess
import sys

import pytest

from tools import series

pytestmark = pytest.mark.integration


def collected(*options: str) -> list[str]:
    """Node ids in the order pytest would hand them to the workers (the notebooks and two test files)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *options,
         "tests/test_data.py", "tests/test_outputs.py", "notebooks", "--nbval"],
        cwd=series.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if "::" in line]


def files_in_order(node_ids: list[str]) -> list[str]:
    files = []
    for node_id in node_ids:
        file = node_id.split("::")[0]
        if not files or files[-1] != file:
            assert file not in files, f"{file} is split in two runs of tests"
            files.append(file)
    return files


@pytest.fixture(scope="module")
def ordered():
    return collected()


def test_solutions_then_chapters_latest_first_then_the_python_tests(ordered):
    files = files_in_order(ordered)
    notebooks = [f for f in files if f.endswith(".ipynb")]
    solutions = [str(p.relative_to(series.REPO_ROOT)) for p in reversed(series.solutions())]
    chapters = [str(p.relative_to(series.REPO_ROOT)) for p in reversed(series.chapters())]
    assert notebooks == solutions + chapters
    assert files[: len(notebooks)] == notebooks, "a Python test file starts before a notebook"
    assert files[len(notebooks) :] == ["tests/test_data.py", "tests/test_outputs.py"]


def test_only_the_order_changes_and_cells_keep_theirs(ordered):
    plain = collected("-p", "no:tools.longest_first")
    assert ordered != plain, "the plugin was not loaded, so this test compares nothing"
    assert sorted(ordered) == sorted(plain)
    for notebook in series.all_notebooks():
        name = str(notebook.relative_to(series.REPO_ROOT))
        cells = [n for n in ordered if n.startswith(name + "::")]
        assert cells == [n for n in plain if n.startswith(name + "::")], name
