"""make lab works on the learner's own copy; make reset keeps the old one. The reference is never touched."""

import subprocess
import sys

from tools.learner_copy import ensure, reference_files, reset
from tools.series import INDEX, NOTEBOOK_DIR, REPO_ROOT, chapters


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*.ipynb"))}


def test_first_use_copies_the_index_chapters_and_solutions(tmp_path):
    copy = tmp_path / "my-notebooks"
    added = ensure(copy)
    assert len(added) == len(reference_files()) == 1 + 2 * len(chapters())
    assert snapshot(copy) == {p.relative_to(NOTEBOOK_DIR): p.read_bytes() for p in reference_files()}
    assert (copy / "solutions" / f"{chapters()[0].stem}_solutions.ipynb").is_file()


def test_a_learners_edits_are_never_overwritten_and_new_notebooks_still_arrive(tmp_path):
    copy = tmp_path / "my-notebooks"
    ensure(copy)
    edited = copy / chapters()[0].name
    edited.write_text("my answers", encoding="utf-8")
    (copy / INDEX.name).unlink()  # as if the series had gained a notebook since the copy was made
    added = ensure(copy)
    assert added == [copy / INDEX.name]
    assert edited.read_text(encoding="utf-8") == "my answers"


def test_reset_keeps_the_old_copy_as_a_backup_and_makes_a_fresh_one(tmp_path):
    copy = tmp_path / "my-notebooks"
    ensure(copy)
    (copy / chapters()[0].name).write_text("my answers", encoding="utf-8")
    backup = reset(copy)
    assert backup.name.startswith("my-notebooks-backup-") and backup.parent == tmp_path
    assert (backup / chapters()[0].name).read_text(encoding="utf-8") == "my answers"
    assert (copy / chapters()[0].name).read_bytes() == chapters()[0].read_bytes()
    second = reset(copy)
    assert second != backup and second.is_dir() and backup.is_dir()


def test_reset_says_where_the_backup_is(tmp_path):
    copy = tmp_path / "work"
    command = [sys.executable, "-m", "tools.learner_copy", "reset", str(copy)]
    first = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    assert first.returncode == 0 and "there was no old copy to keep" in first.stdout
    second = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    assert second.returncode == 0 and f"Your old copy is now {tmp_path}/work-backup-" in second.stdout


def test_a_wrong_command_says_how_to_call_it():
    result = subprocess.run(
        [sys.executable, "-m", "tools.learner_copy", "refresh"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2 and "usage: python -m tools.learner_copy ensure|reset [DIR]" in result.stderr


def test_the_copy_and_its_backups_are_git_ignored():
    for name in ("my-notebooks/01.ipynb", "my-notebooks-backup-20261201-120000/01.ipynb"):
        result = subprocess.run(["git", "check-ignore", "-q", name], cwd=REPO_ROOT)
        assert result.returncode == 0, f"{name} is not ignored"
