"""Would the stored outputs hold on another CPU? nbval over every notebook under variations of the numeric paths.

`make test` already runs nbval on this machine as it is: its own kernels (torch's best CPU capability here),
one thread per kernel, oneDNN on, MKL choosing its own code path. Each variation below changes what a
different machine would change, and nbval must still pass on every cell of all 16 notebooks:

- threads: how torch and MKL split a reduction or a matrix product (sums in another order). OMP_NUM_THREADS
  alone is capped at the number of cores, so the kernel also calls torch.set_num_threads;
- ATEN_CPU_CAPABILITY: torch's vectorised kernels, plain (`default`, no SIMD) or AVX2, as on an older or a
  different x86 CPU than this one (an AVX-512 machine runs AVX-512 kernels unless told otherwise);
- oneDNN (mkldnn) off: torch falls back to its own implementations of the operations oneDNN speeds up;
- MKL_CBWR: the code branch of MKL, which does torch's matrix products on x86. Left to itself MKL picks its
  kernels by CPU model and thread count; a branch (COMPATIBLE: SSE2 without FMA; SSE4_2; AVX2; AVX512)
  fixes them, as a learner's CPU of that kind would. Each branch runs with 1 thread and with 2.

The kernel settings go into an IPython startup file in a temporary IPYTHONDIR. Before each nbval pass a
probe kernel reports what it really runs with (MKL's branch from its own verbose log); a variation that
did not take effect fails the check. MKL runs a branch only on a CPU that can: elsewhere it runs its AUTO
branch instead (oneMKL developer guide, "Getting Started with Conditional Numerical Reproducibility"). Such
a variation is not run, and the check names it and the reason. Prints, per variation: passed, not run
(why), or each differing cell with nbval's diff. Exit status 1 on any difference.

    python -m tools.portability_check [--variation NAME ...] [notebooks ...]   (default: all, every notebook)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tools.outputs import nbval_cells, nbval_diff, nbval_failures
from tools.regen_notebooks import run_code
from tools.series import REPO_ROOT, all_notebooks, nbval_command

MKL_OWN_CHOICE = "OFF"  # what MKL's verbose log calls no fixed branch: its own pick by CPU and thread count


@dataclass(frozen=True)
class Variation:
    name: str
    threads: int
    capability: str | None = None  # ATEN_CPU_CAPABILITY; None: torch's best for this CPU, as in make test
    mkldnn: bool = True
    mkl_branch: str = MKL_OWN_CHOICE  # MKL_CBWR

    def describe(self) -> str:
        return (
            f"{self.threads} thread{'s' * (self.threads != 1)}, "
            f"ATEN_CPU_CAPABILITY={self.capability or 'unset (the best this CPU has)'}, "
            f"oneDNN {'on' if self.mkldnn else 'off'}, "
            + (f"MKL_CBWR={self.mkl_branch}" if self.mkl_branch != MKL_OWN_CHOICE else "MKL's own choice")
        )

    def startup(self) -> str:
        lines = ["import torch", f"torch.set_num_threads({self.threads})"]
        if not self.mkldnn:
            lines.append("torch.backends.mkldnn.enabled = False")
        return "\n".join(lines) + "\n"

    def environment(self, ipython_dir: Path) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR")}
        env.update(OMP_NUM_THREADS=str(self.threads), IPYTHONDIR=str(ipython_dir))
        if self.capability:
            env["ATEN_CPU_CAPABILITY"] = self.capability
        if self.mkl_branch != MKL_OWN_CHOICE:
            env["MKL_CBWR"] = self.mkl_branch
        return env

    def expected(self, native: dict) -> dict:
        """What the probe must report under this variation, on a machine whose own settings are `native`."""
        capability = self.capability.upper() if self.capability else native["capability"]
        return {"threads": self.threads, "capability": capability, "mkldnn": self.mkldnn, "mkl": self.mkl_branch}


# Every setting differs from this machine's own in at least one pass (make test is the pass with none
# changed). The two first passes vary torch's own paths; then each MKL branch with 1 thread and with 2,
# torch's kernels left as make test has them, so that a difference points at MKL.
VARIATIONS = (
    Variation("one-thread-plain", threads=1, capability="default"),
    Variation("four-threads-avx2-no-onednn", threads=4, capability="avx2", mkldnn=False),
    *(
        Variation(f"mkl-{branch.lower()}-{threads}-thread{'s' * (threads > 1)}", threads=threads, mkl_branch=branch)
        for branch in ("COMPATIBLE", "SSE4_2", "AVX2", "AVX512")
        for threads in (1, 2)
    ),
)

# MKL's verbose log names the branch of each call it makes, e.g. "... CNR:COMPATIBLE Dyn:1 ...". MKL writes it to
# file descriptor 1, which the probe points at a file for that one call.
PROBE = """import json, os, re, tempfile, torch
with tempfile.TemporaryFile(mode="w+") as log:
    saved = os.dup(1)
    os.dup2(log.fileno(), 1)
    try:
        with torch.backends.mkl.verbose(torch.backends.mkl.VERBOSE_ON):
            torch.ones(8, 8, dtype=torch.float64) @ torch.ones(8, 8, dtype=torch.float64)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    log.seek(0)
    branch = re.search(r"MKL_VERBOSE .*\\bCNR:(\\w+)", log.read())
print(json.dumps({"threads": torch.get_num_threads(),
                  "capability": torch.backends.cpu.get_cpu_capability(),
                  "mkldnn": torch.backends.mkldnn.enabled,
                  "mkl": branch.group(1) if branch else None}))"""


def probe(env: dict) -> dict:
    """What a fresh kernel with this environment really runs with; "mkl" is None where torch has no MKL."""
    return json.loads(run_code(PROBE, env=env).strip().splitlines()[-1])


def cpu_name() -> str:
    """The CPU's vendor and model, as /proc/cpuinfo names them (empty where there is none)."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return ""
    fields = dict(re.findall(r"^(vendor_id|model name)\s*:\s*(.*)$", info, flags=re.MULTILINE))
    return " ".join(v for v in (fields.get("vendor_id"), fields.get("model name")) if v)


def cannot_run_here(variation: Variation, seen: dict) -> str | None:
    """Why this machine cannot run the variation at all (None if it can, or if it failed for another reason)."""
    if variation.mkl_branch == MKL_OWN_CHOICE:
        return None
    if seen["mkl"] is None:
        return "torch on this machine does not use MKL (MKL is x86 only)"
    if seen["mkl"] != variation.mkl_branch and seen["mkl"] == "AUTO":
        return (
            f"MKL runs its AUTO branch when asked for {variation.mkl_branch} on this CPU ({cpu_name() or 'unknown'}): "
            "MKL runs a branch only on an Intel CPU with that instruction set"
        )
    return None


def prepare(variation: Variation, tmp: Path) -> dict:
    ipython_dir = tmp / variation.name / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-portability-check.py").write_text(variation.startup(), encoding="utf-8")
    return variation.environment(ipython_dir)


def run_nbval(notebooks: list[Path], env: dict, report: Path, workers: int) -> subprocess.CompletedProcess:
    command = [*nbval_command(sys.executable, notebooks, workers), f"--junitxml={report}"]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)


class CannotRunHere(Exception):
    """The machine cannot run this variation (the message says why); not a pass, not a difference."""


def check(variation: Variation, notebooks: list[Path], tmp: Path, workers: int, native: dict) -> list[str]:
    """Problems found under one variation (empty: it passed). Raises CannotRunHere."""
    env = prepare(variation, tmp)
    seen = probe(env)
    expected = variation.expected(native)
    if seen != expected:
        reason = cannot_run_here(variation, seen)
        if reason:
            raise CannotRunHere(reason)
        return [f"the variation did not take effect: the kernel runs with {seen}, expected {expected}"]
    report = tmp / variation.name / "nbval.xml"
    result = run_nbval(notebooks, env, report, workers)
    if not report.exists():
        return [f"nbval did not run (exit status {result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"]
    checked = nbval_cells(report)  # keyed by JUnit classname: "notebooks.solutions.07_x_solutions.ipynb"
    problems = [f"{p.name}: nbval checked no cell" for p in notebooks if not any(c.endswith(p.name) for c in checked)]
    for (notebook, cell), message in sorted(nbval_failures(report).items()):
        problems.append(f"{notebook} cell {cell}:\n" + _indent(nbval_diff(message), "    "))
    if result.returncode != 0 and not problems:
        problems.append(f"nbval exited with status {result.returncode}:\n{result.stdout[-2000:]}")
    return problems


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter and solution")
    names = [v.name for v in VARIATIONS]
    parser.add_argument("--variation", action="append", choices=names, help="default: every variation")
    parser.add_argument("--workers", type=int, default=2, help="nbval workers (pytest-xdist), default 2")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or all_notebooks()
    variations = [v for v in VARIATIONS if not args.variation or v.name in args.variation]

    native = probe(dict(os.environ))
    print(
        f"this machine: {cpu_name() or 'CPU unknown'}; torch's {native['capability']} kernels, "
        f"oneDNN {'on' if native['mkldnn'] else 'off'}, MKL {native['mkl'] or 'not used'} (make test covers these)"
    )
    print(f"{len(notebooks)} notebooks, {len(variations)} variations\n")
    failed, not_run = [], []
    with tempfile.TemporaryDirectory(prefix="portability-") as tmp:
        for variation in variations:
            started = time.perf_counter()
            print(f"==> {variation.name}: {variation.describe()}", flush=True)
            try:
                problems = check(variation, notebooks, Path(tmp), args.workers, native)
            except CannotRunHere as reason:
                not_run.append(variation.name)
                print(f"    NOT RUN: this machine cannot run it: {reason}")
                continue
            took = f"{time.perf_counter() - started:.0f} s"
            if problems:
                failed.append(variation.name)
                print(f"    FAILED ({took}): {len(problems)} problem{'s' * (len(problems) != 1)}")
                for problem in problems:
                    print(_indent(problem, "    "))
            else:
                print(f"    passed ({took}): every cell agrees with its stored output")
    passed = len(variations) - len(failed) - len(not_run)
    print(
        f"\nportability: {passed} of {len(variations)} variations passed"
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + (f"; not run on this machine (see above): {', '.join(not_run)}" if not_run else "")
    )
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
