"""Which build of torch is pip about to install? One line of warning, before the install, if it is the multi-GB
CUDA build, which these notebooks do not need. Run by `make` with the new .venv's Python, before pip installs.

    python tools/torch_build.py requirements.txt "make lab"

It asks pip what it would install for the torch pin (`pip install --dry-run --report`, with the user's own pip
settings, so a CPU index in PIP_EXTRA_INDEX_URL counts), and prints nothing for a CPU build. Standard library.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def torch_pin(requirements):
    with open(requirements, encoding="utf-8") as handle:
        for line in handle:
            if re.match(r"^torch==", line.strip()):
                return line.strip()
    raise SystemExit("tools/torch_build.py: no torch== pin in " + requirements)


def planned_torch(pin):
    """(version, what it requires) of the torch that pip would install now, or None if pip cannot say."""
    with tempfile.TemporaryDirectory() as folder:
        report = os.path.join(folder, "report.json")
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                   "--no-deps", "--report", report, pin]
        if subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            return None
        with open(report, encoding="utf-8") as handle:
            install = json.load(handle)["install"]
    metadata = install[0]["metadata"]
    return metadata["version"], metadata.get("requires_dist", [])


def is_cuda_build(version, requires):
    """PyPI's CUDA builds of torch depend on NVIDIA's libraries (nvidia-*); a CPU build does not."""
    return "+cpu" not in version and any(re.match(r"nvidia[-_]", requirement) for requirement in requires)


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    pin = torch_pin(args[0] if args else "requirements.txt")
    command = args[1] if len(args) > 1 else "make"
    planned = planned_torch(pin)
    if planned and is_cuda_build(*planned):
        print(
            f"==> torch: pip is about to install PyPI's CUDA build of torch {planned[0]} (about 5 GB in .venv; "
            "the notebooks run on the CPU). For the CPU build (about 1.4 GB), stop with Ctrl+C and run the command "
            f"again as PIP_EXTRA_INDEX_URL={CPU_INDEX} {command}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
