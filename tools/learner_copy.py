"""The learner's own copy of the series, kept apart from the reference notebooks that the tests compare.

    python -m tools.learner_copy ensure [DIR]   # make my-notebooks/ on first use; later, add only new files
    python -m tools.learner_copy reset [DIR]    # move it to a dated backup, then make a fresh copy

The copy is never overwritten: a learner's edits, answers and saved outputs stay theirs. The folder and
its backups are git-ignored, so `git status` and `git pull` of the reference stay clean.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from tools.series import NOTEBOOK_DIR, REPO_ROOT, reference_notebooks

WORKING_COPY = REPO_ROOT / "my-notebooks"


def reference_files() -> list[Path]:
    """What a learner gets: the index, the chapters and the solutions, at the same relative paths."""
    return reference_notebooks()


def ensure(copy: Path = WORKING_COPY) -> list[Path]:
    """Copy every reference notebook that the learner's copy does not have yet; never overwrite one."""
    added = []
    for source in reference_files():
        target = copy / source.relative_to(NOTEBOOK_DIR)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            added.append(target)
    return added


def reset(copy: Path = WORKING_COPY) -> Path | None:
    """Move the learner's copy aside (to a timestamped backup) and make a fresh one. Returns the backup."""
    backup = None
    if copy.exists():
        backup = copy.with_name(f"{copy.name}-backup-{time.strftime('%Y%m%d-%H%M%S')}")
        while backup.exists():  # two resets in one second
            backup = backup.with_name(backup.name + "-1")
        copy.rename(backup)
    ensure(copy)
    return backup


def shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2 or args[0] not in ("ensure", "reset"):
        print("usage: python -m tools.learner_copy ensure|reset [DIR]", file=sys.stderr)
        return 2
    copy = (REPO_ROOT / args[1]).resolve() if len(args) == 2 else WORKING_COPY
    where = shown(copy)
    if args[0] == "ensure":
        added = ensure(copy)
        if len(added) == len(reference_files()):
            print(f"==> Your own copy of the notebooks is in {where}/ (the reference in notebooks/ stays untouched)")
        elif added:
            print(f"==> Added {len(added)} new notebooks to {where}/; your own files were kept")
        return 0
    backup = reset(copy)
    if backup:
        print(f"==> Your old copy is now {shown(backup)}/ ; a fresh copy is in {where}/")
    else:
        print(f"==> A fresh copy is in {where}/ (there was no old copy to keep)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
