"""tools/portability_check.py: each variation really reaches the kernel, and an output that depends on it fails."""

import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tools import portability_check
from tools.series import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # starts kernels and nbval under each variation


@pytest.mark.parametrize("variation", portability_check.VARIATIONS, ids=lambda v: v.name)
def test_the_kernel_runs_with_the_variations_settings(variation, tmp_path):
    env = portability_check.prepare(variation, tmp_path)
    assert portability_check.probe(env) == variation.expected()


def test_the_variations_change_every_setting_of_a_plain_kernel():
    native = portability_check.probe(dict(os.environ))
    for setting in ("threads", "capability", "mkldnn"):
        assert any(v.expected()[setting] != native[setting] for v in portability_check.VARIATIONS), setting


def test_an_output_that_depends_on_the_cpu_kernels_is_reported_with_its_diff(tmp_path):
    notebook = tmp_path / "depends.ipynb"
    cells = ["import torch\nprint(torch.backends.cpu.get_cpu_capability())", "print(6 * 7)"]
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in cells]), notebook)
    regen = subprocess.run([sys.executable, "-m", "tools.regen_notebooks", str(notebook)], cwd=REPO_ROOT)
    assert regen.returncode == 0  # stored: this machine's own kernels, which are not the plain ones
    plain = next(v for v in portability_check.VARIATIONS if v.capability == "default")

    problems = portability_check.check(plain, [notebook], tmp_path, workers=1)

    assert len(problems) == 1, problems
    assert "depends.ipynb cell 0:" in problems[0]
    assert "'-' this run" in problems[0] and "- DEFAULT" in problems[0]  # what the plain kernels print
