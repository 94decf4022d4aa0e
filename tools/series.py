"""The series as files: which notebooks exist, how they pair up, and the rules their stored outputs follow.

Every tool and test takes these answers from here; nothing else lists notebooks or restates the rules.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
SOLUTION_DIR = NOTEBOOK_DIR / "solutions"
INDEX = NOTEBOOK_DIR / "index.ipynb"

# Cell tags with a meaning for nbval and for our tools.
RAISES = "raises-exception"  # the cell's error is the lesson; it must raise, and only it may
IGNORE_OUTPUT = "nbval-ignore-output"  # timings only; the first line says why
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def chapters() -> list[Path]:
    """notebooks/NN_slug.ipynb, in order."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def solutions() -> list[Path]:
    """notebooks/solutions/NN_slug_solutions.ipynb, in chapter order."""
    return sorted(SOLUTION_DIR.glob("[0-9][0-9]_*_solutions.ipynb"))


def all_notebooks() -> list[Path]:
    """Every notebook whose stored outputs are the reference: the chapters, then the solutions."""
    return chapters() + solutions()


def reference_notebooks() -> list[Path]:
    """Every notebook in notebooks/ that `make regen` writes: the index, the chapters and the solutions."""
    return [INDEX, *all_notebooks()]


def solution_for(chapter: Path) -> Path:
    return SOLUTION_DIR / f"{chapter.stem}_solutions.ipynb"


def chapter_for(solution: Path) -> Path:
    return NOTEBOOK_DIR / f"{solution.stem.removesuffix('_solutions')}.ipynb"


def number(path: Path) -> str:
    """'03' for 03_text_to_batch_embeddings.ipynb and for its solutions."""
    return path.name[:2]


def nbval_command(python, notebooks, workers: int = 1) -> list[str]:
    """pytest running nbval over the notebooks, as every tool runs it. With workers > 1, in parallel: each
    notebook stays in one worker, and workers take them in the order tools/longest_first.py gives."""
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env"]
    if workers > 1:
        command += ["-n", str(workers), "--dist", "loadscope", "--no-loadscope-reorder"]
    return command + [str(p) for p in notebooks]


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def source(cell) -> str:
    return "".join(cell["source"])


def title(nb) -> str:
    """The first line of the first cell, without the '#': '03 · From text to a batch of embeddings'."""
    return source(nb["cells"][0]).splitlines()[0].lstrip("# ").strip()


def code_cells(nb) -> list:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def markdown(nb) -> str:
    return "\n\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")


def tags(cell) -> set[str]:
    return set(cell["metadata"].get("tags", []))


def compared_text(output) -> str:
    """The parts of an output that nbval compares as text (not images, not tracebacks)."""
    if output["output_type"] == "stream":
        return "".join(output["text"])
    if output["output_type"] == "error":
        return output["evalue"]
    return "".join(output.get("data", {}).get("text/plain", ""))


def ignore_reason(cell) -> str | None:
    """Why a cell's output is not compared (its first line), or None if it is compared."""
    if IGNORE_OUTPUT not in tags(cell):
        return None
    return source(cell).splitlines()[0].removeprefix(f"# {IGNORE_OUTPUT}:").strip()


def execution_problems(nb) -> list[str]:
    """The stored-output rules: executed 1..N top to bottom, errors only (and always) in cells tagged
    raises-exception, no empty code cell, no per-run timing metadata."""
    problems = []
    for expected, cell in enumerate(code_cells(nb), start=1):
        where = f"code cell {expected}"
        if cell["execution_count"] != expected:
            problems.append(f"{where}: execution_count {cell['execution_count']}, expected {expected}")
        if not source(cell).strip():
            problems.append(f"{where}: empty")
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        if errors and RAISES not in tags(cell):
            problems.append(f"{where}: error output {errors[0]['ename']}: {errors[0]['evalue']}")
        if RAISES in tags(cell) and len(errors) != 1:
            problems.append(f"{where}: tagged {RAISES} but stored {len(errors)} errors")
        if "execution" in cell["metadata"]:
            problems.append(f"{where}: per-run timing metadata")
    return problems


def main(argv=None) -> int:
    """Print a notebook set for the Makefile: `python -m tools.series chapters|solutions|all`."""
    sets = {"chapters": chapters, "solutions": solutions, "all": all_notebooks}
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in sets:
        print(f"usage: python -m tools.series {'|'.join(sets)}", file=sys.stderr)
        return 2
    print(" ".join(str(p.relative_to(REPO_ROOT)) for p in sets[args[0]]()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
