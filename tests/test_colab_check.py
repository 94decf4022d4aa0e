"""tools/colab_check.py (make colab-check): the google.colab stand-in records what is asked of it; a notebook's
Colab cell, run in the stand-in kernel, installs the package from the source it is given and the installed copy
reads its own corpus; an anchor that the run prints differently fails the check."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import colab_check
from tools.colab_check import ANCHORS, Anchor, check_anchors, prints
from tools.repository_address import SOURCE_VARIABLE, colab_cell
from tools.series import REPO_ROOT, code_cells, read

CHAPTER_02 = REPO_ROOT / "notebooks" / "02_lookup_by_index.ipynb"


# ---- the google.colab stand-in ------------------------------------------------------------------------------


def standin_folder(tmp_path: Path) -> Path:
    """The stand-in as the tool lays it out for the kernel: <folder>/google/colab/__init__.py."""
    package = tmp_path / "standin" / "google" / "colab"
    package.mkdir(parents=True)
    package.joinpath("__init__.py").write_bytes(colab_check.STANDIN.read_bytes())
    return tmp_path / "standin"


def run_python(code: str, folder: Path, log: Path | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != colab_check.LOG_VARIABLE}
    if log is not None:
        env[colab_check.LOG_VARIABLE] = str(log)
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(folder)!r})\n{code}"],
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.integration  # starts a Python
def test_the_standin_records_every_read_and_call_on_google_colab_and_its_submodules(tmp_path):
    log = tmp_path / "calls.jsonl"
    code = """
import google.colab
from google.colab import output
output.enable_custom_widget_manager()
import google.colab.drive
google.colab.drive.mount("/content/drive", force_remount=True)
google.colab.files.download("x.csv")
print("google.colab" in sys.modules, google.colab.__name__)
"""
    result = run_python(code, standin_folder(tmp_path), log)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "google.colab"]  # loaded; a dunder is read without being recorded
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    events = [(e["event"], e["name"]) for e in entries]
    for expected in [
        ("getattr", "google.colab.output"),
        ("call", "google.colab.output.enable_custom_widget_manager"),
        ("import", "google.colab.drive"),
        ("call", "google.colab.drive.mount"),
        ("getattr", "google.colab.files.download"),
        ("call", "google.colab.files.download"),
    ]:
        assert expected in events
    mount = next(e for e in entries if e["name"] == "google.colab.drive.mount" and e["event"] == "call")
    assert mount["args"] == ["'/content/drive'"] and mount["kwargs"] == {"force_remount": "True"}
    line = 2 + code.splitlines().index('google.colab.drive.mount("/content/drive", force_remount=True)')
    assert mount["caller"] == f"<string>:{line}"  # the line that called it (run_python adds one before the code)
    assert not any("__" in e["name"] for e in entries)


@pytest.mark.integration  # starts a Python
def test_without_a_log_file_the_standin_only_answers(tmp_path):
    result = run_python(
        "import google.colab; google.colab.output.clear(); print('ran')", standin_folder(tmp_path), None
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran"
    assert list(tmp_path.iterdir()) == [tmp_path / "standin"]


# ---- anchors --------------------------------------------------------------------------------------------------


def with_changed_output(notebook: Path, old: str, new: str, target: Path) -> Path:
    """A copy of the notebook whose outputs have `old` replaced by `new` (what a run that printed `new` leaves)."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in code_cells(nb):
        for output in cell.outputs:
            if "text" in output:
                output.text = output.text.replace(old, new)
            if "text/plain" in output.get("data", {}):
                output.data["text/plain"] = output.data["text/plain"].replace(old, new)
    nbformat.write(nb, target)
    return target


def test_the_anchors_are_found_in_the_stored_outputs_of_their_notebooks():
    for anchor in ANCHORS:
        for stem in anchor.required_in:
            checks = check_anchors(
                REPO_ROOT / "notebooks" / f"{stem}.ipynb", REPO_ROOT / "notebooks" / f"{stem}.ipynb", stem
            )
            assert any(c.anchor == anchor and c.ok for c in checks), (anchor.label, stem)
            assert all(c.ok for c in checks)


def test_a_planted_anchor_mismatch_fails_with_the_cell_and_what_the_run_printed(tmp_path):
    run = with_changed_output(CHAPTER_02, "-0.4015", "-0.4016", tmp_path / "run.ipynb")
    checks = check_anchors(CHAPTER_02, run, CHAPTER_02.stem)
    failed = [c for c in checks if not c.ok]
    assert {c.anchor.label for c in failed} == {"the seed-123 6×3 table", "id 3's row"}
    table = next(c for c in failed if c.anchor.label == "the seed-123 6×3 table")
    assert table.problem.startswith("differs: the run printed")
    assert "[-0.4016,  0.9666, -1.1481]" in table.problem
    assert "tensor([[ 0.3374" in colab_check.cell_text(code_cells(read(CHAPTER_02))[table.cell])


def test_an_anchor_missing_from_the_stored_outputs_of_its_notebook_fails(tmp_path):
    stored = with_changed_output(CHAPTER_02, "-0.4015", "-0.4016", tmp_path / "stored.ipynb")
    checks = check_anchors(stored, stored, CHAPTER_02.stem)
    missing = [c for c in checks if not c.ok]
    assert {c.anchor.label for c in missing} == {"the seed-123 6×3 table", "id 3's row"}
    assert all(c.cell is None and c.problem.startswith("missing") for c in missing)
    assert "update ANCHORS in tools/colab_check.py" in missing[0].problem


def test_a_number_anchor_is_not_found_inside_a_longer_number():
    count = Anchor("count", "124,439,808", ())
    assert prints("whole model:    124,439,808\n", count)
    assert prints("124,439,808 parameters", count)
    assert not prints("1,124,439,808", count)
    assert not prints("124,439,8080", count)
    assert not prints("124,439,808.5", count)
    lookup = Anchor("lookup", "FLOPs counted, lookup:      0", ())
    assert prints("FLOPs counted, lookup:      0\n", lookup)
    assert not prints("FLOPs counted, lookup:      0.5", lookup)


# ---- the environment: cached by its version list, refused with a reason ---------------------------------------


def test_the_cache_folder_is_named_after_the_version_list(monkeypatch):
    key = colab_check.env_key("3.13.0")
    assert key.startswith("colab-py3.13.0-torch2.11.0-")
    monkeypatch.setitem(colab_check.COLAB, "numpy", "2.1.2")
    assert colab_check.env_key("3.13.0") != key


def test_a_cache_folder_that_cannot_be_written_is_named_with_the_fix(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(colab_check.CACHE_VARIABLE, str(blocker / "cache"))
    with pytest.raises(colab_check.StandInError, match=f"set {colab_check.CACHE_VARIABLE} to a folder you can write"):
        with colab_check.colab_environment(log=lambda _: None):
            pass


def a_python_that_is_not_313() -> str:
    """This run's Python when it is not 3.13 (make test), else another supported one (make test-newest-python)."""
    candidates = [sys.executable, shutil.which("python3.11"), shutil.which("python3.12"), "/usr/bin/python3.11"]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += [str(p) for p in sorted(pyenv.glob("3.1[12].*/bin/python3"))]
    for candidate in filter(None, candidates):
        result = subprocess.run([candidate, "--version"], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.startswith("Python 3.") and "Python 3.13." not in result.stdout:
            return candidate
    raise AssertionError(f"this test needs a Python other than 3.13 besides {sys.executable}: install python3.11")


def test_a_python_that_is_not_313_is_refused_with_the_variable_to_set(monkeypatch):
    monkeypatch.setenv(colab_check.PYTHON_VARIABLE, a_python_that_is_not_313())
    with pytest.raises(colab_check.StandInError, match=f"{colab_check.PYTHON_VARIABLE}=.* is not a Python 3.13"):
        colab_check.colab_python()


# ---- in the stand-in kernel (these build the environment once, or reuse the cached one) --------------------


@pytest.mark.integration
@pytest.mark.slow
def test_the_colab_cell_installs_the_package_from_the_source_it_is_given(tmp_path, corpus):
    commit = colab_check.git(REPO_ROOT, "rev-parse", "HEAD")
    clone = colab_check.fresh_clone(REPO_ROOT, commit, tmp_path / "clone")
    source_value = f"git+file://{clone}"
    notebook = tmp_path / "colab-cell.ipynb"
    nbformat.write(
        nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_code_cell(colab_cell()),
                nbformat.v4.new_code_cell(
                    "import embeddings_course\n"
                    "print(embeddings_course.__file__)\n"
                    "print(embeddings_course.CORPUS_PATH)\n"
                    "print(len(embeddings_course.load_corpus()))"
                ),
                nbformat.v4.new_code_cell("from google.colab import output\noutput.enable_custom_widget_manager()"),
            ]
        ),
        notebook,
    )
    with colab_check.colab_environment() as env:
        kernel = colab_check.Kernel(tmp_path / "kernel")
        kernel.write(env)
        result = colab_check.run_notebook(notebook, env, kernel, source_value, tmp_path / "work", tmp_path / "out", 600)
        pristine_again = colab_check.freeze(env.python) == env.pristine

    assert result.ok, result.problems
    assert result.colab_output.splitlines()[0] == (
        f"Colab: installing the series' package from {source_value} (Colab's own torch, numpy and matplotlib are kept)"
    )
    assert f"+embeddings-course @ {source_value}@{commit}" in result.installed_by_colab_cell
    site = env.path / "lib" / f"python{colab_check.COLAB_PYTHON}" / "site-packages" / "embeddings_course"
    package_file, corpus_path, length = colab_check.cell_text(code_cells(read(result.executed))[1]).split()
    assert Path(package_file) == site / "__init__.py"
    assert Path(corpus_path) == site / "data" / "lantern-street.txt"
    assert int(length) == len(corpus)
    assert result.probe["google.colab loaded"] is True
    assert result.probe["python"].startswith(colab_check.COLAB_PYTHON + ".")
    assert result.probe["installed"]["torch"] == colab_check.COLAB["torch"]
    assert ("call", "google.colab.output.enable_custom_widget_manager") in [
        (c["event"], c["name"]) for c in result.calls
    ]
    assert pristine_again  # the install is undone for the next notebook
    assert SOURCE_VARIABLE not in os.environ  # set for the kernel only


@pytest.mark.integration
@pytest.mark.slow
def test_a_run_that_prints_an_anchor_differently_fails_the_check(tmp_path):
    # A commit in a clone that changes 02's seed: the stored outputs still show the seed-123 table, the run not.
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
    path = clone / "notebooks" / CHAPTER_02.name
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in code_cells(nb) if "torch.manual_seed(123)" in c.source)
    cell.source = cell.source.replace("torch.manual_seed(123)", "torch.manual_seed(124)")
    nbformat.write(nb, path)
    identity = ["-c", "user.name=colab check test", "-c", "user.email=colab-check@example.invalid"]
    subprocess.run(["git", *identity, "-C", str(clone), "commit", "--quiet", "-am", "plant"], check=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.colab_check",
            "--repo",
            str(clone),
            "--out-dir",
            str(tmp_path / "out"),
            f"notebooks/{CHAPTER_02.name}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    table = next(i for i, c in enumerate(code_cells(read(CHAPTER_02))) if prints(colab_check.cell_text(c), ANCHORS[0]))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED 02_lookup_by_index.ipynb" in result.stdout
    assert f"anchor 'the seed-123 6×3 table' in 02_lookup_by_index, code cell {table}: differs" in result.stdout
    report = (tmp_path / "out" / "report.md").read_text()
    assert "**0 of 1 notebooks ok**" in report


@pytest.mark.integration
@pytest.mark.slow
def test_what_is_on_this_process_pythonpath_does_not_count_as_installed_in_the_colab_env(tmp_path, monkeypatch):
    # A clone's src/ on PYTHONPATH, with the egg-info of an editable install, would look installed to pip freeze.
    dist = tmp_path / "planted_package-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: planted-package\nVersion: 1.0\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with colab_check.colab_environment() as env:
        assert "planted-package" not in colab_check.freeze(env.python)
        assert colab_check.restore(env) == []
