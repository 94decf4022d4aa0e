"""Walk the README's path for a machine without make (Windows, macOS), here, in a fresh venv:

    python -m venv .venv
    python -m pip install -r requirements.txt -c constraints.txt -e .
    python -m jupyter lab notebooks

then run nbval over the chapters in that venv, once for each Python named (default: this one). Exit
status 1 if any step fails.

    python -m tools.no_make_check [/usr/bin/python3.11 python3.13 ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.series import REPO_ROOT, chapters, nbval_command


def run(step: str, command: list[str], env: dict) -> None:
    print(f"==> {step}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"FAILED: {step} (exit status {result.returncode})")
    print(f"    done in {time.perf_counter() - started:.0f} s", flush=True)


def check(base_python: str) -> None:
    """The README's steps with one Python: raises SystemExit at the first step that fails."""
    # A learner's shell: none of the Makefile's settings, no MPLBACKEND.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "MPLBACKEND", "VIRTUAL_ENV"))}
    with tempfile.TemporaryDirectory(prefix="no-make-") as tmp:
        venv = Path(tmp) / "venv"
        python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
        env["JUPYTER_CONFIG_DIR"] = str(Path(tmp) / "jupyter-config")  # not the machine's own settings
        run("create a venv", [base_python, "-m", "venv", str(venv)], env)
        run("its Python", [python, "--version"], env)
        run(
            "install",
            [python, "-m", "pip", "install", "--quiet", "-r", "requirements.txt", "-c", "constraints.txt", "-e", "."],
            env,
        )
        run("jupyter lab is there", [python, "-m", "jupyter", "lab", "--version"], env)
        corpus = REPO_ROOT / "data" / "lantern-street.txt"
        reads_data = f"import embeddings_course as e; assert str(e.CORPUS_PATH) == {str(corpus)!r}, e.CORPUS_PATH"
        run("the package reads the corpus from data/", [python, "-c", reads_data], env)
        run(
            "nbval over the chapters",
            nbval_command(python, (p.relative_to(REPO_ROOT) for p in chapters()), workers=2),
            env,
        )


def main(argv=None) -> int:
    pythons = (sys.argv[1:] if argv is None else argv) or [sys.executable]
    for base_python in pythons:
        print(f"==> the path without make, with {base_python}", flush=True)
        check(base_python)
    print(f"==> the path without make works with {', '.join(pythons)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
