"""Benchmark: wall time and peak memory of executing each notebook, against a floor.

The floor is a notebook that only starts a kernel and imports the libraries the notebooks use.
Each notebook (and the floor) runs in a fresh kernel, `--repeats` times; the table shows the median
wall time (kernel start to shutdown), that time divided by the floor's, and the kernel's peak
resident memory. This reports figures; it asserts nothing.

    python -m tools.bench [notebooks ...]   (default: every chapter)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tools.series import NOTEBOOK_DIR, chapters

FLOOR_SOURCE = """%matplotlib inline
import matplotlib.pyplot as plt
import tiktoken
import torch
import torch.nn.functional as F
from tqdm import tqdm

import embeddings_course"""
PEAK_RSS = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux"


def run_once(nb, folder: Path):
    nb = nbformat.from_dict(nb)
    nb.cells.append(new_code_cell(PEAK_RSS))
    client = NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(folder)}})
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    peak_kib = int(nb.cells[-1].outputs[0].text)
    return seconds, peak_kib * 1024


def measure(nb, folder: Path, repeats: int):
    runs = [run_once(nb, folder) for _ in range(repeats)]
    return statistics.median(s for s, _ in runs), max(m for _, m in runs)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    import torch

    return (
        f"{cpu}; {os.cpu_count()} cores visible, torch uses {torch.get_num_threads()} threads; "
        f"Python {platform.python_version()}; torch {torch.__version__}; {platform.system()} {platform.release()}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    args.notebooks = args.notebooks or chapters()

    folder = NOTEBOOK_DIR
    floor_seconds, floor_rss = measure(new_notebook(cells=[new_code_cell(FLOOR_SOURCE)]), folder, args.repeats)
    print(f"machine: {machine()}")
    print(f"median of {args.repeats} runs, each in a fresh kernel (start to shutdown)\n")
    print("| notebook | wall time | × floor | peak RSS |")
    print("|---|---:|---:|---:|")
    print(f"| floor: kernel + imports only | {floor_seconds:.2f} s | 1.00 | {floor_rss / 2**20:.0f} MiB |")
    total = 0.0
    for path in args.notebooks:
        seconds, rss = measure(nbformat.read(path, as_version=4), folder, args.repeats)
        total += seconds
        print(f"| {path.name} | {seconds:.2f} s | {seconds / floor_seconds:.2f} | {rss / 2**20:.0f} MiB |")
    print(f"| **suite total** | {total:.2f} s | {total / floor_seconds:.2f} | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
