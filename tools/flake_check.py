"""Run every notebook twice, with different PYTHONHASHSEED values, and count output differences.

Each run executes the notebooks exactly as `make regen` does (tools/regen_notebooks.py, written to
a temporary folder). Every output is compared, figures' PNG bytes included, except cells tagged
nbval-ignore-output (timings). The two runs must agree with each other and with the committed
notebooks. Exit status 1 on any difference.

    python -m tools.flake_check [notebooks ...]   (default: every chapter and solution)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.outputs import differences
from tools.series import REPO_ROOT, all_notebooks

HASH_SEEDS = ("1", "4242")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter and solution")
    args = parser.parse_args(argv)
    args.notebooks = [p.resolve() for p in args.notebooks or all_notebooks()]

    with tempfile.TemporaryDirectory(prefix="flake-") as tmp:
        runs = []
        for seed in HASH_SEEDS:
            out = Path(tmp) / f"hashseed-{seed}"
            env = dict(os.environ, PYTHONHASHSEED=seed)
            result = subprocess.run(
                [sys.executable, "-m", "tools.regen_notebooks", "--output-dir", str(out), *map(str, args.notebooks)],
                env=env,
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                print(result.stderr)
                print(f"FAILED: the run with PYTHONHASHSEED={seed} did not complete")
                return 1
            runs.append(out)

        total = 0
        print(f"{'notebook':<46} {'run 1 vs run 2':>15} {'run 1 vs committed':>19}")
        for notebook in args.notebooks:
            first, second = runs[0] / notebook.name, runs[1] / notebook.name
            between, committed = differences(first, second), differences(first, notebook)
            total += len(between) + len(committed)
            print(f"{notebook.name:<46} {len(between):>15} {len(committed):>19}")
            for label, cells in (("between runs", between), ("against committed", committed)):
                if cells:
                    print(f"    cells differing {label}: {cells}")
    print(f"\nPYTHONHASHSEED {' and '.join(HASH_SEEDS)}: {total} differing cells")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
