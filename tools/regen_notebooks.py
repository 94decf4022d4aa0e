"""Re-execute notebooks top to bottom and store their outputs, atomically.

    python -m tools.regen_notebooks [notebooks/01_token_embeddings.ipynb ...]   (default: every reference notebook)

For each notebook: run every cell in a fresh kernel, check the result (execution counts
1..N, no error output outside cells tagged ``raises-exception``), then replace the file in
one step. A notebook that fails leaves its committed file untouched. Exit status 1 if any
notebook failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools.series import KERNELSPEC, REPO_ROOT, execution_problems, reference_notebooks


def execute(path: Path, timeout: int):
    # The kernel runs in the notebook's own folder, as in JupyterLab, even when the result is written elsewhere.
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        record_timing=False,  # no timestamps in cell metadata: they would change on every run
        coalesce_streams=True,  # one stdout/stderr output per cell, progress-bar redraws (\r) resolved
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


def run_code(code: str, env: dict | None = None, timeout: int = 120) -> str:
    """Run one cell of code in a fresh python3 kernel, as `execute` would, and return what it printed.

    env: the kernel's whole environment (default: this process's). What the kernel process itself writes
    to its terminal (its log, an echo of C-level output) is dropped. Raises if the code raises."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, record_timing=False, coalesce_streams=True)
    kernel_options = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    client.execute(**kernel_options, **({"env": env} if env is not None else {}))
    return "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")


def tidy(nb) -> None:
    """Keep the metadata JupyterLab would fill in on open (so opening a notebook does not mark it
    changed), and drop what changes from one run to the next."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                # Tracebacks name files by absolute path; keep them relative to the clone.
                output.traceback = [line.replace(f"{REPO_ROOT}/", "") for line in output.traceback]


def check(nb, path: Path) -> list[str]:
    return [f"{path}: {problem}" for problem in execution_problems(nb)]


def write_atomically(nb, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".ipynb.tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a notebook is an ordinary file
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            nbformat.write(nb, handle)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: the index, every chapter and solution")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument(
        "--output-dir", type=Path, help="write the executed notebooks here instead of in place (same checks)"
    )
    args = parser.parse_args(argv)
    args.notebooks = args.notebooks or reference_notebooks()
    if args.output_dir:
        args.output_dir.mkdir(parents=True, exist_ok=True)

    failed = []
    for path in args.notebooks:
        started = time.perf_counter()
        try:
            nb = execute(path, args.timeout)
            tidy(nb)
            nbformat.validate(nb)
            problems = check(nb, path)
        except Exception as exc:  # report every notebook, then fail once
            message = str(exc).strip()  # the cell's source first, the error last: keep the end
            message = message if len(message) <= 3000 else "...\n" + message[-3000:]
            problems = [f"{path}: {type(exc).__name__}: {message}"]
        if problems:
            failed.append(path)
            print(f"FAILED {path} (left unchanged)", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        target = args.output_dir / path.name if args.output_dir else path
        write_atomically(nb, target)
        print(f"ok     {target} ({time.perf_counter() - started:.1f} s)")
    if failed:
        print(
            f"{len(failed)} of {len(args.notebooks)} notebooks failed; their files were not changed.", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
