"""What learners would see after an upgrade: the drift report for one changed pin.

    python -m tools.drift NAME==VERSION [--out-dir build/drift] [--keep-env] [notebooks ...]

1. Checks the request: NAME must be pinned in requirements.txt or constraints.txt, and the package
   index must serve VERSION.
2. Builds a throw-away venv (OUT_DIR/NAME-VERSION/venv) from requirements.txt and constraints.txt
   with that one pin changed. If VERSION's own dependencies conflict with the other pins, it says so
   and stops. The series' package is put on the venv's path (a .pth file), not installed into src/.
3. Runs every chapter and solution there, as `make regen` does, writing the executed copies to
   OUT_DIR/NAME-VERSION/notebooks/; the committed notebooks are only read.
4. Writes OUT_DIR/NAME-VERSION.md: each cell whose output changed (notebook, cell, stored and new text,
   a short diff, whether only the last printed digit moved), the figures whose PNG changed, the other
   packages that moved with the pin, and a summary line with the counts.
5. Deletes the venv (unless --keep-env).

Exit status: 0 when the report is written and every notebook ran; 1 if a notebook failed in the new
environment (the report says which); 2 for a request that cannot be met (the message says why).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tools.outputs import CellChange, cell_changes, change_lines, fenced
from tools.series import REPO_ROOT, all_notebooks

PIN_FILES = ("requirements.txt", "constraints.txt")
PIN_LINE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")
DEFAULT_OUT = REPO_ROOT / "build" / "drift"


class DriftError(Exception):
    """A request that cannot be met; the message names the problem and the fix."""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_of(path: Path) -> dict[str, str]:
    """{normalised name: version} of every `name==version` line of one pin file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {normalise(m.group(1)): m.group(2) for m in map(PIN_LINE.match, lines) if m}


def pins(root: Path = REPO_ROOT) -> dict[str, str]:
    """Every pin of requirements.txt and constraints.txt (constraints.txt wins where both pin a package)."""
    found = {}
    for filename in PIN_FILES:
        found.update(pins_of(root / filename))
    return found


def parse_request(spec: str, pinned: dict[str, str]) -> tuple[str, str]:
    """'torch==2.14.1' -> ('torch', '2.14.1'), or a DriftError that says what to write instead."""
    spec = (spec or "").strip()
    if not spec:
        raise DriftError("no package given: run  make drift PKG=name==version  (for example PKG=torch==2.14.1)")
    match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(\S+)", spec)
    if not match:
        name = re.split(r"[<>=!~ ]", spec, maxsplit=1)[0]
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec):
            raise DriftError(
                f"PKG={spec} has no version: write PKG={spec}==VERSION; the versions the index serves are "
                f"listed by  pip index versions {spec}"
            )
        raise DriftError(f"PKG={spec} is not of the form name==version: write PKG={name}==VERSION (one exact version)")
    name, version = normalise(match.group(1)), match.group(2)
    if name not in pinned:
        raise DriftError(
            f"{match.group(1)} is not pinned in requirements.txt or constraints.txt, so there is no pin to "
            "change: choose one of the pinned packages (grep == requirements.txt constraints.txt), or add the "
            "package to requirements.txt first"
        )
    return name, version


def index_versions(name: str) -> list[str]:
    """The versions of `name` the package index serves (pip's own configuration)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "--pre", name], capture_output=True, text=True
    )
    match = re.search(r"^Available versions: (.*)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not match:
        raise DriftError(f"the package index has no {name} (pip index versions {name}: {result.stderr.strip()[-300:]})")
    return [v.strip() for v in match.group(1).split(",")]


def check_served(name: str, version: str, served: list[str]) -> None:
    if version in served or any(v.split("+")[0] == version for v in served):
        return
    raise DriftError(
        f"the package index does not serve {name} {version}: choose one of its versions, the newest being "
        f"{', '.join(served[:8])} (all: pip index versions {name})"
    )


def repinned(root: Path, name: str, version: str, target: Path) -> list[Path]:
    """Copies of requirements.txt and constraints.txt in `target` with the one pin changed."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for filename in PIN_FILES:
        lines = []
        for line in (root / filename).read_text(encoding="utf-8").splitlines():
            match = PIN_LINE.match(line)
            if match and normalise(match.group(1)) == name:
                line = f"{match.group(1)}=={version}"
            lines.append(line)
        (target / filename).write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(target / filename)
    return written


# ---- the throw-away environment -------------------------------------------------------------------


def kernel_environment(venv: Path) -> dict:
    """This process's environment, but Jupyter finds the venv's kernel and not .venv's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "VIRTUAL_ENV", "MPLBACKEND"))}
    env.update(JUPYTER_PATH=str(venv / "share" / "jupyter"), JUPYTER_PLATFORM_DIRS="1", VIRTUAL_ENV=str(venv))
    # Its own matplotlib config and font cache, built by the probe: not .venv's (make exports MPLCONFIGDIR)
    # nor the per-user one, which another matplotlib may be rebuilding while a notebook draws (findfont warnings).
    env["MPLCONFIGDIR"] = str(venv / "mplconfig")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def build_env(venv: Path, requirements: Path, constraints: Path, request: str) -> Path:
    """Create the venv and install the pins; raise DriftError on a dependency conflict."""
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    print(f"==> installing requirements.txt + constraints.txt with {request} into {venv}", flush=True)
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-r", str(requirements), "-c", str(constraints)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        # pip prints the reasons of a conflict ("X depends on Y") to stdout and the verdict to stderr.
        output = result.stdout + result.stderr
        lines = [line for line in output.splitlines() if line.strip() and "is ignored: it is neither" not in line]
        reasons = ("conflict", " depends on ", "The user requested", "Cannot install")
        conflict = [line.strip() for line in lines if any(r in line for r in reasons)]
        if "ResolutionImpossible" in output or "conflicting dependencies" in output:
            raise DriftError(
                f"{request} conflicts with the other pins in requirements.txt/constraints.txt, so no environment "
                "has exactly that one pin changed. pip says:\n  "
                + "\n  ".join(conflict or lines[-15:])
                + "\nChange the conflicting pins together by hand, or choose another version."
            )
        raise DriftError(f"pip could not install {request} with the other pins:\n  " + "\n  ".join(lines[-15:]))
    # The series' package from src/, as the editable install of make setup provides it, writing nothing there.
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "embeddings_course_src.pth").write_text(str(REPO_ROOT / "src") + "\n", encoding="utf-8")
    subprocess.run(
        [
            str(python),
            "-m",
            "ipykernel",
            "install",
            "--sys-prefix",
            "--name",
            "python3",
            "--display-name",
            "Python 3 (ipykernel)",
        ],
        check=True,
        capture_output=True,
    )
    return python


PROBE = """import importlib.metadata, json
import matplotlib.font_manager  # builds the venv's font cache now, not during a notebook's first figure
import embeddings_course
print(json.dumps({{"version": importlib.metadata.version({name!r}), "package": embeddings_course.__file__}}))"""


def probe(python: Path, venv: Path, name: str) -> dict:
    """What a kernel of the venv imports: the changed package's version and where the series' package is."""
    code = f"from tools.regen_notebooks import run_code; print(run_code({PROBE.format(name=name)!r}))"
    result = subprocess.run(
        [str(python), "-c", code], cwd=REPO_ROOT, env=kernel_environment(venv), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise DriftError(f"a kernel of the new environment did not start:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def freeze(python: Path) -> dict[str, str]:
    result = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True)
    return {normalise(m.group(1)): m.group(2) for m in map(PIN_LINE.match, result.stdout.splitlines()) if m}


def moved_with(frozen: dict[str, str], constraints: dict[str, str], name: str) -> list[str]:
    """The packages other than `name` whose version differs from constraints.txt, or that it lacks."""
    moved = []
    for package, version in sorted(frozen.items()):
        if package in (name, "embeddings-course"):  # the series' own package, on the path from src/
            continue
        pinned = constraints.get(package)
        if pinned is None:
            moved.append(f"{package} {version} (not in constraints.txt)")
        elif pinned.split("+")[0] != version.split("+")[0]:
            moved.append(f"{package} {pinned} → {version}")
    return moved


# ---- the report ----------------------------------------------------------------------------------


@dataclass
class NotebookResult:
    notebook: Path  # the committed notebook
    changes: list[CellChange]
    failed: str | None = None  # why it did not run, if it did not


def compare(notebooks: list[Path], executed_dir: Path, failures: dict[str, str]) -> list[NotebookResult]:
    results = []
    for notebook in notebooks:
        copy = executed_dir / notebook.name
        if not copy.exists():
            results.append(NotebookResult(notebook, [], failures.get(notebook.name, "it was not written")))
        else:
            results.append(NotebookResult(notebook, cell_changes(notebook, copy)))
    return results


def summary(results: list[NotebookResult]) -> dict[str, int]:
    changes = [c for r in results for c in r.changes]
    return {
        "notebooks": len(results),
        "failed": sum(r.failed is not None for r in results),
        "cells": sum(c.size is not None for c in changes),
        "last digit": sum(c.size == "last digit" for c in changes),
        "larger": sum(c.size == "larger" for c in changes),
        "figures": sum(len(c.figures) for c in changes),
    }


def summary_line(counts: dict[str, int]) -> str:
    return (
        f"{counts['notebooks']} notebooks ({counts['failed']} failed to run): {counts['cells']} cells with changed "
        f"text output ({counts['last digit']} only in the last printed digit, {counts['larger']} larger), "
        f"{counts['figures']} figures whose PNG changed"
    )


def render(title: str, header: list[str], results: list[NotebookResult]) -> str:
    counts = summary(results)
    lines = [f"# {title}", "", *header, "", f"**Summary: {summary_line(counts)}.**", ""]
    for result in results:
        if result.failed is None and not result.changes:
            continue
        name = result.notebook.relative_to(REPO_ROOT) if result.notebook.is_relative_to(REPO_ROOT) else result.notebook
        lines += [f"## {name}", ""]
        if result.failed is not None:
            lines += ["**Did not run in the new environment:**", "", fenced(result.failed), ""]
            continue
        lines += change_lines(result.notebook, result.changes, "New")
    if not any(r.changes or r.failed for r in results):
        lines += ["Every notebook's outputs, text and PNG bytes, are as stored.", ""]
    return "\n".join(lines)


# ---- the whole run -------------------------------------------------------------------------------


def run_notebooks(python: Path, venv: Path, notebooks: list[Path], executed_dir: Path) -> dict[str, str]:
    """Execute the notebooks in the venv as make regen does; {notebook name: why it failed}."""
    if executed_dir.exists():
        shutil.rmtree(executed_dir)
    command = [str(python), "-m", "tools.regen_notebooks", "--output-dir", str(executed_dir), *map(str, notebooks)]
    # Progress ("ok  notebook (s)") as it comes; the failures are read from stderr, then shown.
    result = subprocess.run(command, cwd=REPO_ROOT, env=kernel_environment(venv), stderr=subprocess.PIPE, text=True)
    shown = [line for line in result.stderr.splitlines() if "WARNING | Kernel" not in line]
    if shown:
        print("\n".join(shown), file=sys.stderr)
    failures, current = {}, None
    for line in result.stderr.splitlines():
        match = re.match(r"FAILED (\S+)", line)
        if match:
            current = Path(match.group(1)).name
            failures[current] = ""
        elif current and line.startswith("  "):
            failures[current] += line.strip() + "\n"
    return failures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("package", nargs="?", default="", help="name==version, for example torch==2.14.1")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter and solution")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="default: build/drift (git-ignored)")
    parser.add_argument("--keep-env", action="store_true", help="keep the venv (it can be several GB)")
    args = parser.parse_args(argv)
    try:
        return drift(
            args.package,
            [p.resolve() for p in args.notebooks] or all_notebooks(),
            args.out_dir.resolve(),
            args.keep_env,
        )
    except DriftError as error:
        print(f"make drift: {error}", file=sys.stderr)
        return 2


def drift(request: str, notebooks: list[Path], out_dir: Path, keep_env: bool) -> int:
    pinned = pins()
    name, version = parse_request(request, pinned)
    check_served(name, version, index_versions(name))
    slug = f"{name}-{version}"
    work = out_dir / slug
    venv, executed = work / "venv", work / "notebooks"
    requirements, constraints = repinned(REPO_ROOT, name, version, work / "pins")
    started = time.perf_counter()
    try:
        python = build_env(venv, requirements, constraints, f"{name}=={version}")
        seen = probe(python, venv, name)
        if seen["version"].split("+")[0] != version.split("+")[0]:
            raise DriftError(f"the new environment's kernel imports {name} {seen['version']}, not {version}")
        moved = moved_with(freeze(python), pins_of(REPO_ROOT / "constraints.txt"), name)
        print(f"==> running {len(notebooks)} notebooks with {name} {seen['version']}", flush=True)
        failures = run_notebooks(python, venv, notebooks, executed)
    finally:
        if not keep_env and venv.exists():
            shutil.rmtree(venv)
    results = compare(notebooks, executed, failures)
    header = [
        f"`make drift PKG={name}=={version}`: every notebook run in a fresh environment from requirements.txt "
        f"and constraints.txt with one pin changed, {name} {pinned[name]} → {version}, and compared with its "
        "stored outputs (cells tagged nbval-ignore-output, timings, are left out).",
        "",
        f"- In the kernel: {name} {seen['version']}; the series' package from `{Path(seen['package']).parent}`.",
        f"- Other packages that moved with it: {', '.join(moved) if moved else 'none'}.",
        f"- Executed copies: `{executed}`{'' if keep_env else ' (the environment itself was deleted)'}.",
    ]
    report = out_dir / f"{slug}.md"
    report.write_text(render(f"Drift report: {name} {pinned[name]} → {version}", header, results), encoding="utf-8")
    counts = summary(results)
    print(f"==> {report} ({time.perf_counter() - started:.0f} s)")
    print(f"{name} {pinned[name]} → {version}: {summary_line(counts)}")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
