"""tools/regen_notebooks.py: outputs come from one run top to bottom, and a failure changes nothing."""

import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tools.series import NOTEBOOK_DIR, REPO_ROOT

pytestmark = pytest.mark.integration  # starts kernels and make
REGEN = [sys.executable, "-m", "tools.regen_notebooks"]


def write_notebook(path, sources, tags=None):
    cells = [new_code_cell(s) for s in sources]
    for index, tag in (tags or {}).items():
        cells[index].metadata["tags"] = [tag]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def regen(*paths):
    return subprocess.run([*REGEN, *map(str, paths)], capture_output=True, text=True, cwd=REPO_ROOT)


def test_a_notebook_that_fails_partway_is_left_byte_for_byte_unchanged(tmp_path):
    path = tmp_path / "fails.ipynb"
    write_notebook(path, ["print('first cell runs')", "raise RuntimeError('boom in cell 2')", "print('never')"])
    before = path.read_bytes()
    result = regen(path)
    assert result.returncode == 1
    assert "boom in cell 2" in result.stderr
    assert "left unchanged" in result.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fails.ipynb"]  # no temporary file left behind


def test_a_good_notebook_gets_counts_1_to_n_and_no_timing_metadata(tmp_path):
    good = tmp_path / "good.ipynb"
    write_notebook(good, ["x = 40", "print(x + 2)", "[1/0 for _ in range(1)]"], tags={2: "raises-exception"})
    result = regen(good)
    assert result.returncode == 0, result.stderr
    nb = nbformat.read(good, as_version=4)
    assert [c.execution_count for c in nb.cells] == [1, 2, 3]
    assert nb.cells[1].outputs[0].text == "42\n"
    assert nb.cells[2].outputs[0].ename == "ZeroDivisionError"
    assert all("execution" not in c.metadata for c in nb.cells)
    assert nb.metadata.kernelspec.name == "python3"


def test_one_failure_does_not_stop_the_others_and_fails_the_run(tmp_path):
    good, bad = tmp_path / "a_good.ipynb", tmp_path / "b_bad.ipynb"
    write_notebook(good, ["print('ok')"])
    write_notebook(bad, ["import no_such_module_anywhere"])
    before = bad.read_bytes()
    result = regen(good, bad)
    assert result.returncode == 1
    assert nbformat.read(good, as_version=4).cells[0].outputs[0].text == "ok\n"
    assert bad.read_bytes() == before


def test_a_cell_tagged_raises_exception_that_does_not_raise_is_a_failure(tmp_path):
    path = tmp_path / "quiet.ipynb"
    write_notebook(path, ["print('no error here')"], tags={0: "raises-exception"})
    before = path.read_bytes()
    result = regen(path)
    assert result.returncode == 1
    assert "tagged raises-exception but stored 0 errors" in result.stderr
    assert path.read_bytes() == before


def test_output_dir_leaves_the_source_untouched(tmp_path):
    source = tmp_path / "src.ipynb"
    write_notebook(source, ["print(6 * 7)"])
    before = source.read_bytes()
    out = tmp_path / "out"
    result = subprocess.run(
        [*REGEN, "--output-dir", str(out), str(source)], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    assert source.read_bytes() == before
    assert nbformat.read(out / "src.ipynb", as_version=4).cells[0].outputs[0].text == "42\n"


def test_make_regen_failing_halfway_through_a_real_notebook_changes_nothing(tmp_path):
    """`make regen` on a copy of notebook 03 that fails halfway."""
    (tmp_path / "notebooks").mkdir()
    copy = tmp_path / "notebooks" / "03_text_to_batch_embeddings.ipynb"
    nb = nbformat.read(NOTEBOOK_DIR / copy.name, as_version=4)
    halfway = len(nb.cells) // 2
    nb.cells.insert(halfway, new_code_cell("raise RuntimeError('injected failure halfway')"))
    nbformat.write(nb, copy)
    before = copy.read_bytes()

    result = subprocess.run(
        ["make", "-C", str(REPO_ROOT), "regen", f"NOTEBOOKS={copy}"], capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "injected failure halfway" in result.stderr
    assert f"FAILED {copy} (left unchanged)" in result.stderr
    assert copy.read_bytes() == before
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]
