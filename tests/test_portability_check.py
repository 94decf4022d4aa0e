"""tools/portability_check.py: each variation really reaches the kernel, a branch the CPU cannot run is named
with the reason, and an output that depends on the numeric path fails with nbval's diff."""

import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tools import portability_check
from tools.series import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # starts kernels and nbval under each variation


@pytest.fixture(scope="module")
def native():
    return portability_check.probe(dict(os.environ))


@pytest.mark.parametrize("variation", portability_check.VARIATIONS, ids=lambda v: v.name)
def test_the_kernel_runs_with_the_variations_settings_or_the_check_says_why_not(variation, native, tmp_path):
    seen = portability_check.probe(portability_check.prepare(variation, tmp_path))
    if seen != variation.expected(native):
        reason = portability_check.cannot_run_here(variation, seen)
        assert reason and variation.mkl_branch in reason and "AUTO" in reason, seen
    else:
        assert portability_check.cannot_run_here(variation, seen) is None


def test_the_variations_change_every_setting_of_a_plain_kernel(native):
    for setting in ("threads", "capability", "mkldnn", "mkl"):
        assert any(v.expected(native)[setting] != native[setting] for v in portability_check.VARIATIONS), setting


def test_every_mkl_branch_runs_with_one_thread_and_with_more():
    for branch in ("COMPATIBLE", "SSE4_2", "AVX2", "AVX512"):
        threads = {v.threads for v in portability_check.VARIATIONS if v.mkl_branch == branch}
        assert 1 in threads and max(threads) >= 2, branch


def regenerated(tmp_path, cells):
    notebook = tmp_path / "planted.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in cells]), notebook)
    regen = subprocess.run([sys.executable, "-m", "tools.regen_notebooks", str(notebook)], cwd=REPO_ROOT)
    assert regen.returncode == 0  # stored: this machine's own numeric paths
    return notebook


def test_an_output_that_depends_on_the_cpu_kernels_is_reported_with_its_diff(native, tmp_path):
    notebook = regenerated(tmp_path, ["import torch\nprint(torch.backends.cpu.get_cpu_capability())", "print(6 * 7)"])
    plain = next(v for v in portability_check.VARIATIONS if v.capability == "default")

    problems = portability_check.check(plain, [notebook], tmp_path, workers=1, native=native)

    assert len(problems) == 1, problems
    assert "planted.ipynb cell 0:" in problems[0]
    assert "'-' this run" in problems[0] and "- DEFAULT" in problems[0]  # what the plain kernels print


# The cell that failed on an Intel Xeon (07's solutions, exercise 2, before it printed a bound): the size of the
# rounding error of a float64 matrix product. MKL's COMPATIBLE branch (SSE2, no fused multiply-add) rounds
# differently from the FMA kernels that MKL picks on any x86-64 CPU with AVX2.
PLANTED_ROUNDING_SIZE = """import torch
from embeddings_course import inverse_frequencies, sinusoidal_encoding
far_positions = torch.arange(1000, 1064)
far = sinusoidal_encoding(far_positions, 256)
p_minus_q = (far_positions[:, None] - far_positions[None, :]).double()
closed_form = torch.cos(p_minus_q[..., None] * inverse_frequencies(256)).sum(dim=-1)
print(f"largest difference {(far @ far.T - closed_form).abs().max():.1e}")"""


def test_a_planted_rounding_size_print_fails_under_an_mkl_branch(native, tmp_path):
    notebook = regenerated(tmp_path, [PLANTED_ROUNDING_SIZE, "print(6 * 7)"])
    compatible = next(v for v in portability_check.VARIATIONS if v.mkl_branch == "COMPATIBLE")

    problems = portability_check.check(compatible, [notebook], tmp_path, workers=1, native=native)

    assert len(problems) == 1, problems
    assert "planted.ipynb cell 0:" in problems[0] and "largest difference" in problems[0]


def test_a_branch_this_cpu_cannot_run_is_named_with_the_reason_not_passed(native, tmp_path):
    # Xeon Phi's branch: MKL falls back to AUTO on every CPU made today.
    phi = portability_check.Variation("mkl-xeon-phi", threads=1, mkl_branch="AVX512_MIC")
    with pytest.raises(portability_check.CannotRunHere, match="AUTO branch when asked for AVX512_MIC on this CPU"):
        portability_check.check(phi, [REPO_ROOT / "notebooks" / "01_token_embeddings.ipynb"], tmp_path, 1, native)
