"""Would the stored outputs hold on another CPU? nbval over every notebook under variations of the numeric paths.

`make test` already runs nbval on this machine as it is: its own kernels (torch's best CPU capability here),
as many threads as cores, oneDNN on. Each variation below changes what a different machine would change,
and nbval must still pass on every cell of all 16 notebooks:

- threads: how torch splits a reduction or a matrix product (sums in another order). OMP_NUM_THREADS
  alone is capped at the number of cores, so the kernel also calls torch.set_num_threads;
- ATEN_CPU_CAPABILITY: torch's vectorised kernels, plain (`default`, no SIMD) or AVX2, as on an older or a
  different x86 CPU than this one (an AVX-512 machine runs AVX-512 kernels unless told otherwise);
- oneDNN (mkldnn) off: torch falls back to its own implementations of the operations oneDNN speeds up.

The kernel settings go into an IPython startup file in a temporary IPYTHONDIR. Before each nbval pass a
probe kernel reports what it really runs with; a variation that did not take effect fails the check.
Prints, per variation: passed, or each differing cell with nbval's diff. Exit status 1 on any difference.

    python -m tools.portability_check [--variation NAME ...] [notebooks ...]   (default: all, every notebook)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tools.outputs import nbval_cells, nbval_diff, nbval_failures
from tools.regen_notebooks import run_code
from tools.series import REPO_ROOT, all_notebooks, nbval_command


@dataclass(frozen=True)
class Variation:
    name: str
    threads: int
    capability: str  # ATEN_CPU_CAPABILITY
    mkldnn: bool

    def describe(self) -> str:
        return (
            f"{self.threads} thread{'s' * (self.threads != 1)}, ATEN_CPU_CAPABILITY={self.capability}, "
            f"oneDNN {'on' if self.mkldnn else 'off'}"
        )

    def startup(self) -> str:
        lines = ["import torch", f"torch.set_num_threads({self.threads})"]
        if not self.mkldnn:
            lines.append("torch.backends.mkldnn.enabled = False")
        return "\n".join(lines) + "\n"

    def environment(self, ipython_dir: Path) -> dict:
        return dict(
            os.environ,
            OMP_NUM_THREADS=str(self.threads),
            ATEN_CPU_CAPABILITY=self.capability,
            IPYTHONDIR=str(ipython_dir),
        )

    def expected(self) -> dict:
        return {"threads": self.threads, "capability": self.capability.upper(), "mkldnn": self.mkldnn}


# Every setting differs from this machine's own in at least one pass (make test is the pass with none
# changed); two passes keep the check to a few minutes on two cores.
VARIATIONS = (
    Variation("one-thread-plain", threads=1, capability="default", mkldnn=True),
    Variation("four-threads-avx2-no-onednn", threads=4, capability="avx2", mkldnn=False),
)

PROBE = """import json, torch
print(json.dumps({"threads": torch.get_num_threads(),
                  "capability": torch.backends.cpu.get_cpu_capability(),
                  "mkldnn": torch.backends.mkldnn.enabled}))"""


def probe(env: dict) -> dict:
    """What a fresh kernel with this environment really runs with."""
    return json.loads(run_code(PROBE, env=env).strip().splitlines()[-1])


def prepare(variation: Variation, tmp: Path) -> dict:
    ipython_dir = tmp / variation.name / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-portability-check.py").write_text(variation.startup(), encoding="utf-8")
    return variation.environment(ipython_dir)


def run_nbval(notebooks: list[Path], env: dict, report: Path, workers: int) -> subprocess.CompletedProcess:
    command = [*nbval_command(sys.executable, notebooks, workers), f"--junitxml={report}"]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def check(variation: Variation, notebooks: list[Path], tmp: Path, workers: int) -> list[str]:
    """Problems found under one variation (empty: it passed)."""
    env = prepare(variation, tmp)
    seen = probe(env)
    if seen != variation.expected():
        return [f"the variation did not take effect: the kernel runs with {seen}, expected {variation.expected()}"]
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
        f"this machine: torch's {native['capability']} kernels, {native['threads']} threads, "
        f"oneDNN {'on' if native['mkldnn'] else 'off'} (make test covers these)"
    )
    print(f"{len(notebooks)} notebooks, {len(variations)} variations\n")
    failed = []
    with tempfile.TemporaryDirectory(prefix="portability-") as tmp:
        for variation in variations:
            started = time.perf_counter()
            print(f"==> {variation.name}: {variation.describe()}", flush=True)
            problems = check(variation, notebooks, Path(tmp), args.workers)
            took = f"{time.perf_counter() - started:.0f} s"
            if problems:
                failed.append(variation.name)
                print(f"    FAILED ({took}): {len(problems)} problem{'s' * (len(problems) != 1)}")
                for problem in problems:
                    print(_indent(problem, "    "))
            else:
                print(f"    passed ({took}): every cell agrees with its stored output")
    print(
        f"\nportability: {len(variations) - len(failed)} of {len(variations)} variations passed"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
