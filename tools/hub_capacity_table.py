"""Print the capacity table of docs/classroom-hub.md from `make hub-load` reports (report.json files).

python tools/hub_capacity_table.py build/capacity/n*/report.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(paths: list[str]) -> None:
    reports = sorted((json.loads(Path(p).read_text()) for p in paths), key=lambda r: r["students"])
    notebooks = list(reports[0]["per_notebook"])
    print(
        "| students | whole class, 01–08 | p95 per notebook ("
        + ", ".join(nb[:2] for nb in notebooks)
        + ") | log-in → first cell, p95 | peak memory, machine (before) | peak, largest student"
        + " | outputs compared | failures |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in reports:
        p95 = " · ".join(
            f"{r['per_notebook'][nb]['p95_s']:.0f}" if r["per_notebook"][nb]["p95_s"] is not None else "–"
            for nb in notebooks
        )
        failures = r["outputs_differing"] + len(r["errors"])
        print(
            f"| {r['students']} | {r['class_wall_s']:.0f} s | {p95} s | {r['login_to_first_cell_s']['p95']} s | "
            f"{r['memory']['machine_used_peak_mib'] / 1024:.1f} GiB "
            f"({r['memory']['machine_used_before_mib'] / 1024:.1f}) | "
            f"{r['memory']['per_student_peak_mib_max']} MiB | {r['outputs_compared']} | {failures} |"
        )
    first = reports[0]
    print(
        f"\nMeasured {', '.join(r['date'] for r in reports)} with `make hub-load STUDENTS=N` on "
        f"{first['machine']['cpu']}, {first['machine']['cores']} cores, {first['machine']['memory_gib']} GiB, "
        f"Linux {first['machine']['kernel']}, commit {first['commit'][:10]}."
    )


if __name__ == "__main__":
    main(sys.argv[1:])
