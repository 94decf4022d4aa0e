"""Prove that nbval catches a changed number: the mutation check.

For every notebook, a temporary copy is made in which one digit is changed in the stored output of
every code cell with compared output (its last digit d -> d+1 mod 10, or, with no digit, its last
True/False flipped). nbval then runs the copy. Each mutated cell must fail, and no other cell may fail.
Prints a table, the kill rate for tensor and shape outputs (must be 100%) and every cell whose
output nbval does not compare, with its reason. Exit status 1 if anything survived.

    python -m tools.mutation_check [notebooks ...]   (default: every chapter and solution)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from tools.outputs import nbval_failures
from tools.series import all_notebooks, compared_text, ignore_reason, nbval_command

TENSOR_OR_SHAPE = re.compile(r"tensor\(|torch\.Size|Parameter containing")


FLIP = {"True": "False", "False": "True"}


def mutate_one_value(cell) -> str | None:
    """Change the last digit of the cell's last output that has one (d -> d+1 mod 10); in an output
    without digits, flip its last True/False. Return a description, or None if nothing was changed."""
    for pattern in (r"\d", r"\b(?:True|False)\b"):
        for output in reversed(cell.outputs):
            text = compared_text(output)
            matches = list(re.finditer(pattern, text))
            if not matches:
                continue
            last = matches[-1]
            old = last.group()
            new = str((int(old) + 1) % 10) if old.isdigit() else FLIP[old]
            at = last.start()
            mutated = text[:at] + new + text[last.end() :]
            if output.output_type == "stream":
                output.text = mutated
            elif output.output_type == "error":
                output.evalue = mutated
            else:
                output.data["text/plain"] = mutated
            line = mutated[: at + len(new)].rsplit("\n", 1)[-1]
            return f"...{line[-40:]!s}"
    return None


def failing_cells(report: Path) -> set[int]:
    return {cell for _, cell in nbval_failures(report)}


def check(notebook: Path, workdir: Path):
    nb = nbformat.read(notebook, as_version=4)
    mutated, excluded, untouched = {}, [], 0
    for index, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        reason = ignore_reason(cell)
        if reason is not None:
            excluded.append((index, reason))
            continue
        is_tensor = any(TENSOR_OR_SHAPE.search(compared_text(o)) for o in cell.outputs)
        change = mutate_one_value(cell)
        if change:
            mutated[index] = (change, is_tensor)
        else:
            untouched += 1
    copy = workdir / notebook.name
    nbformat.write(nb, copy)
    report = workdir / f"{notebook.stem}.xml"
    subprocess.run(
        [*nbval_command(sys.executable, [copy]), f"--junitxml={report}"],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    return mutated, failing_cells(report), excluded, untouched


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter and solution")
    args = parser.parse_args(argv)
    args.notebooks = args.notebooks or all_notebooks()

    total = killed = tensor_total = tensor_killed = 0
    problems, exclusions = [], []
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        workdir = Path(tmp) / "notebooks"
        workdir.mkdir()
        print(f"{'notebook':<46} {'mutated':>8} {'killed':>7} {'tensor/shape':>13} {'no output':>10}")
        for notebook in args.notebooks:
            mutated, failed, excluded, untouched = check(notebook, workdir)
            hit = set(mutated) & failed
            n_tensor = sum(is_tensor for _, is_tensor in mutated.values())
            n_tensor_hit = sum(mutated[i][1] for i in hit)
            total, killed = total + len(mutated), killed + len(hit)
            tensor_total, tensor_killed = tensor_total + n_tensor, tensor_killed + n_tensor_hit
            tensor_kills = f"{n_tensor_hit}/{n_tensor}"
            print(f"{notebook.name:<46} {len(mutated):>8} {len(hit):>7} {tensor_kills:>13} {untouched:>10}")
            for index in sorted(set(mutated) - failed):
                problems.append(f"{notebook.name} cell {index}: mutation survived ({mutated[index][0]})")
            for index in sorted(failed - set(mutated)):
                problems.append(f"{notebook.name} cell {index}: failed although its output was not changed")
            exclusions += [f"{notebook.name} cell {index}: {reason}" for index, reason in excluded]

    print(f"\nkill rate, all mutated outputs:    {killed}/{total} = {killed / max(total, 1):.0%}")
    tensor_rate = tensor_killed / max(tensor_total, 1)
    print(f"kill rate, tensor and shape outputs: {tensor_killed}/{tensor_total} = {tensor_rate:.0%}")
    print("\noutputs nbval does not compare:")
    print("  - every image/png (figure pixels): nbval skips them; their text/plain repr is compared")
    for line in exclusions:
        print(f"  - {line}")
    if problems or killed != total:
        print("\nFAILED:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("\nevery mutation was caught, and only the mutated cells failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
