"""Do the stored outputs hold on an ARM CPU? nbval over the notebooks on aarch64 Linux, emulated with qemu-user.

The reference outputs come from x86 CPUs. This runs each notebook under nbval on arm64 Debian 12 with
torch's aarch64 wheel from PyPI (NVPL BLAS and ARM SIMD kernels), emulated by Debian's qemu-user-static:

- set-up (cached, see below): qemu-aarch64 registered with binfmt_misc; an arm64 Debian root made by
  `debootstrap --arch=arm64 --foreign` and its second stage run inside; a venv in it from the pins and
  the package (`pip install -r requirements.txt -c constraints.txt`, then `-e .`);
- every emulated process runs with QEMU_CPU=neoverse-n1, a CPU with NEON and no SVE, as Apple's M-series.
  Debian 12's qemu 7.2 computes SVE matrix products wrongly under its default CPU (`max`);
- a probe kernel first reports what it runs on (aarch64, torch, its CPU capability, its BLAS) and checks
  float32 matrix products of odd shapes against float64; if any is wrong, the run stops there, so that an
  emulator bug is never reported as a difference in the series;
- then nbval runs each notebook in a copy of this repository inside the root, one kernel per core, each
  notebook within a time budget. A notebook that runs out of it is reported as not run to the end, with
  the cell it was at and what the cells before it showed.

The root and its venv are cached in /var/cache/embeddings-course/arm64 (or $EMBEDDINGS_ARM64_CACHE), outside
the clone: a change of requirements.txt, constraints.txt or pyproject.toml rebuilds the venv, not the root.
Needs root (debootstrap, chroot, mounts). Everything mounted is unmounted by its path, also on failure.
Prints and writes build/portability-arm/report.md: per notebook passed, FAILED (each differing cell with
nbval's diff) or not run to the end (and where), with times. Exit status 1 on any difference, probe failure
or set-up problem; a notebook that only ran out of time is not a failure. DEBIAN_MIRROR overrides the mirror.

    python -m tools.portability_arm [--budget-minutes N] [--jobs N] [notebooks ...]   (default: all 16)
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tools import longest_first
from tools.outputs import nbval_cells, nbval_diff, nbval_failures
from tools.series import REPO_ROOT, all_notebooks, nbval_command

CACHE_VARIABLE = "EMBEDDINGS_ARM64_CACHE"
DEFAULT_CACHE = Path("/var/cache/embeddings-course/arm64")
REPORT = REPO_ROOT / "build" / "portability-arm" / "report.md"

# NEON only (like Apple's M-series and Graviton 2); qemu 7.2's SVE gets float32 products wrong.
EMULATED_CPU = "neoverse-n1"
HOST_PACKAGES = ("qemu-user-static", "binfmt-support", "debootstrap")
HOST_COMMANDS = ("qemu-aarch64-static", "debootstrap")
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
BINFMT_ENTRY = "qemu-aarch64"
BINFMT_CONF = Path("/usr/lib/binfmt.d/qemu-aarch64.conf")  # qemu-user-static's registration line

SUITE = "bookworm"
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
ROOT_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# A root made from another recipe is rebuilt; the venv is keyed by the pins instead (venv_key).
ROOT_RECIPE = f"debootstrap --arch=arm64 --variant=minbase --include={','.join(ROOT_PACKAGES)} {SUITE}"
ROOT_STAMP = ".embeddings-course-root"
VENV_STAMP = ".installed"
PINS = ("requirements.txt", "constraints.txt", "pyproject.toml")
REPO_IN_ROOT = "/srv/embeddings-course"  # the copy of this repository the notebooks run in
GIB = 2**30
# Measured (docs/maintaining.md): the root takes 0.3 GiB; the venv 5.0 GiB (torch's aarch64 wheel pulls in
# NVIDIA's CUDA libraries), and while pip installs it also holds the 2.8 GiB of wheels it downloaded.
ROOT_NEEDS_GIB = 1.0
VENV_NEEDS_GIB = 8.5
# Measured (docs/maintaining.md): every notebook but 06 and its solutions ends within 3 minutes, 06 (185
# training steps) in 18.4; its solutions train four such models, more than an hour.
BUDGET_MINUTES = 30


class SetupError(Exception):
    """A set-up step failed; the message names the problem and the fix."""


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / GIB:.1f} GiB"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


# ---- before anything is built: what the host must have ---------------------------------------


@dataclass
class Cache:
    path: Path

    @property
    def root(self) -> Path:
        return self.path / "root"

    def root_ready(self) -> bool:
        try:
            return (self.root / ROOT_STAMP).read_text(encoding="utf-8").strip() == ROOT_RECIPE
        except OSError:  # none yet, or a user who cannot read the cache
            return False

    def venv_in_root(self, key: str) -> str:
        return f"/opt/venv-{key}"

    def venv_ready(self, key: str) -> bool:
        return os.path.exists(self.root / self.venv_in_root(key).lstrip("/") / VENV_STAMP)


def venv_key(repo: Path = REPO_ROOT) -> str:
    """The pins' digest: a venv built from other pins is rebuilt."""
    digest = hashlib.sha256()
    for name in PINS:
        digest.update(name.encode() + b"\0" + (repo / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def not_root_problem() -> str | None:
    if os.geteuid() == 0:
        return None
    return (
        "portability-arm needs root: debootstrap, chroot and the mounts inside the arm64 root need it. "
        "Run it as root: sudo make portability-arm"
    )


def missing_tools_problem() -> tuple[str | None, bool]:
    """(the problem, or None; whether apt-get must install the host packages first)."""
    missing = [command for command in HOST_COMMANDS if shutil.which(command) is None]
    if not missing:
        return None, False
    install = f"apt-get install {' '.join(HOST_PACKAGES)}"
    if shutil.which("apt-get") is None:
        why = "apt-get is not on PATH to install them"
    elif os.geteuid() != 0:
        why = "only root can install them with apt-get"
    else:
        return None, True
    return (
        f"{' and '.join(missing)} not found, and {why}: install Debian's {', '.join(HOST_PACKAGES)} "
        f"(sudo {install}), or your distribution's qemu-user-static and debootstrap"
    ), False


def free_bytes(path: Path) -> tuple[Path, int]:
    """Free space on the file system that holds path (or would: its nearest existing parent)."""
    while not os.path.exists(path):  # False also where this user may not look
        path = path.parent
    stats = os.statvfs(path)
    return path, stats.f_bavail * stats.f_frsize


def disk_problem(cache: Cache, key: str, min_free_gib: float | None) -> str | None:
    if min_free_gib is None:
        min_free_gib = (0 if cache.root_ready() else ROOT_NEEDS_GIB) + (0 if cache.venv_ready(key) else VENV_NEEDS_GIB)
    where, free = free_bytes(cache.path)
    if free >= min_free_gib * GIB:
        return None
    return (
        f"not enough free disk space: {_gib(free)} free on the file system of {where}, {min_free_gib:.1f} GiB needed "
        f"for what is not cached yet (the arm64 root takes {ROOT_NEEDS_GIB:g} GiB at most, its venv "
        f"{VENV_NEEDS_GIB:g} GiB while pip installs torch). Free some space there, or put the cache on a "
        f"disk with room: {CACHE_VARIABLE}=/path/with/space make portability-arm"
    )


def mount_binfmt(binfmt_dir: Path) -> tuple[str | None, bool]:
    """(the problem, or None; whether this run mounted binfmt_misc and must unmount it)."""
    if os.path.exists(binfmt_dir / "register"):
        return None, False
    try:
        result = subprocess.run(
            ["mount", "-t", "binfmt_misc", "binfmt_misc", str(binfmt_dir)], capture_output=True, text=True
        )
        error = " ".join(result.stderr.split()) if result.returncode else ""
    except FileNotFoundError:
        error = "mount is not on PATH"
    if not error and os.path.exists(binfmt_dir / "register"):
        return None, True
    return (
        f"binfmt_misc is not mounted at {binfmt_dir}, and mounting it failed ({error or 'no register file'}): "
        "the kernel runs arm64 programs through qemu only with binfmt_misc. Load it (modprobe binfmt_misc) and "
        f"run this as root with the right to mount (in a container: a privileged one), or mount it yourself: "
        f"mount -t binfmt_misc binfmt_misc {binfmt_dir}"
    ), False


def register_qemu(binfmt_dir: Path) -> str:
    """Make the kernel run aarch64 programs with qemu-aarch64-static; say what was done."""
    entry = binfmt_dir / BINFMT_ENTRY
    if not entry.exists():
        if not BINFMT_CONF.exists():
            raise SetupError(f"{BINFMT_CONF} is missing: apt-get install --reinstall qemu-user-static")
        (binfmt_dir / "register").write_text(BINFMT_CONF.read_text(encoding="utf-8").strip() + "\n")
        done = "registered"
    else:
        done = "already registered"
    fields = dict(line.split(" ", 1) for line in entry.read_text().splitlines() if " " in line)
    if "enabled" not in entry.read_text().splitlines():
        entry.write_text("1")
        done += ", enabled"
    interpreter = fields.get("interpreter", "?")
    # F: the kernel opens qemu when it is registered, so it runs inside the root without a copy there.
    if "F" not in fields.get("flags:", fields.get("flags", "")):
        raise SetupError(
            f"{entry} is registered without the F flag (interpreter {interpreter}): programs inside the root "
            f"cannot reach it. Remove it (echo -1 > {entry}) and run this again: it registers {BINFMT_CONF}"
        )
    return f"{done}, interpreter {interpreter}"


@contextmanager
def binfmt_registered(binfmt_dir: Path = BINFMT_DIR):
    """qemu-aarch64 registered for the duration (for the tests that run the probe without main)."""
    problem, mounted_here = mount_binfmt(binfmt_dir)
    if problem:
        raise SetupError(problem)
    try:
        yield register_qemu(binfmt_dir)
    finally:
        if mounted_here:
            unmount(binfmt_dir)


def preflight(cache: Cache, key: str, binfmt_dir: Path, min_free_gib: float | None) -> tuple[list[str], bool, bool]:
    """Every problem that stops the set-up before anything is built, each with its fix.

    Returns (problems, whether apt-get must install the host packages, whether binfmt_misc was mounted)."""
    problems = [not_root_problem()]
    tools_problem, install = missing_tools_problem()
    problems += [tools_problem, disk_problem(cache, key, min_free_gib)]
    binfmt, mounted = mount_binfmt(binfmt_dir)
    problems.append(binfmt)
    return [p for p in problems if p], install, mounted


# ---- running things, and mounting, by id and by path ------------------------------------------


def run(command: list[str], what: str, env: dict, log: Path) -> float:
    """Run a set-up step, its output appended to log. Returns its wall time; raises SetupError."""
    started = time.perf_counter()
    with open(log, "a", encoding="utf-8") as handle:
        result = subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(True)[-25:])
        raise SetupError(f"{what} failed (exit status {result.returncode}); the last lines of {log}:\n{tail}")
    return time.perf_counter() - started


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or under path, deepest first (the order to unmount them)."""
    found = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = Path(line.split()[1].replace("\\040", " "))
        if point == path or path in point.parents:
            found.append(point)
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def unmount(point: Path, patience: float = 10) -> None:
    """Unmount by path; a mount still busy (a process exiting) is tried again for `patience` seconds."""
    deadline = time.monotonic() + patience
    while True:
        result = subprocess.run(["umount", str(point)], capture_output=True, text=True)
        if result.returncode == 0:
            return
        if "busy" not in result.stderr or time.monotonic() > deadline:
            error = " ".join(result.stderr.split())
            raise SetupError(f"could not unmount {point}: {error}; unmount it by hand: umount {point}")
        time.sleep(0.5)


# MIDR_EL1 of the emulated CPU, as arm64 Linux on a Neoverse N1 shows it in /sys (qemu's value for it).
EMULATED_MIDR = "0x00000000414fd0c1"


def write_cpu_sysfs(sys_dir: Path) -> None:
    """The part of /sys that torch reads about the CPU. qemu-user emulates the CPU, not the kernel's /sys:
    with none, torch's cpuinfo and oneDNN print errors on stderr at `import torch` (which nbval would
    compare in every notebook); the host's own /sys describes x86 cores, and torch crashes on it."""
    cpus = sys_dir / "devices" / "system" / "cpu"
    cpus.mkdir(parents=True)
    numbers = f"0-{(os.cpu_count() or 1) - 1}"
    for name in ("possible", "present", "online"):
        (cpus / name).write_text(numbers + "\n")
    for n in range(os.cpu_count() or 1):
        identification = cpus / f"cpu{n}" / "regs" / "identification"
        identification.mkdir(parents=True)
        (identification / "midr_el1").write_text(EMULATED_MIDR + "\n")


@contextmanager
def mounted(root: Path):
    """/proc, /dev, /dev/pts and /dev/shm inside the root (the kernels' ZMQ sockets, torch's shared
    memory), and a /sys of the emulated CPU; unmounted by path afterwards, also when the run fails."""
    mounts = [
        (["-t", "proc", "proc"], root / "proc"),
        (["--bind", "/dev"], root / "dev"),
        (["--bind", "/dev/pts"], root / "dev" / "pts"),
        (["-t", "tmpfs", "-o", "mode=1777", "shm"], root / "dev" / "shm"),
        (["-t", "tmpfs", "-o", "mode=0755", "arm64-sysfs"], root / "sys"),
    ]
    done: list[Path] = []
    try:
        for options, point in mounts:
            point.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(["mount", *options, str(point)], capture_output=True, text=True)
            if result.returncode != 0:
                raise SetupError(f"mount {' '.join(options)} {point} failed: {result.stderr.strip()}")
            done.append(point)
        write_cpu_sysfs(root / "sys")
        yield
    finally:
        errors = []
        for point in reversed(done):  # every one of them, even if one fails
            try:
                unmount(point)
            except SetupError as error:
                errors.append(str(error))
        if errors:
            raise SetupError("\n".join(errors))


def root_environment(venv: str | None = None) -> dict:
    """The whole environment of every process in the root: nothing of this host's (its pip settings,
    JUPYTER_PATH, MPLBACKEND) leaks in, and QEMU_CPU reaches every emulated process."""
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "QEMU_CPU": EMULATED_CPU,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt",  # this host's, copied in: it trusts what the host trusts
        "PIP_NO_CACHE_DIR": "1",  # the wheels would double the cache's size
    }
    if venv:
        env.update(
            PATH=f"{venv}/bin:{env['PATH']}",
            JUPYTER_PATH=f"{venv}/share/jupyter",
            JUPYTER_PLATFORM_DIRS="1",
            MPLCONFIGDIR=f"{venv}/matplotlib",  # as make test: matplotlib's settings and font cache in the venv
            OMP_NUM_THREADS="1",  # as make test: one thread per kernel, one kernel per core
        )
    return env


def in_root(root: Path, command: list[str]) -> list[str]:
    return [shutil.which("chroot") or "/usr/sbin/chroot", str(root), *command]


# ---- the cached root and venv ------------------------------------------------------------------


def ensure_root(cache: Cache, log: Path) -> str:
    """The arm64 Debian root, from debootstrap (reused when its recipe has not changed)."""
    if cache.root_ready():
        return f"reused {cache.root} ({ROOT_RECIPE})"
    building = cache.path / "root.new"
    for point in mounts_under(building):  # left by an interrupted second stage
        unmount(point)
    shutil.rmtree(building, ignore_errors=True)
    cache.path.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QEMU_CPU=EMULATED_CPU)
    first = run(
        ["debootstrap", "--arch=arm64", "--foreign", "--variant=minbase", f"--include={','.join(ROOT_PACKAGES)}",
         SUITE, str(building), MIRROR],
        "debootstrap (first stage)", env=env, log=log,
    )  # fmt: skip
    try:
        second = run(
            in_root(building, ["/debootstrap/debootstrap", "--second-stage"]), "debootstrap's second stage (emulated)",
            env={**root_environment(), "DEBIAN_FRONTEND": "noninteractive"}, log=log,
        )  # fmt: skip
    finally:
        for point in mounts_under(building):  # debootstrap mounts /proc and /sys in the root itself
            unmount(point)
    (building / ROOT_STAMP).write_text(ROOT_RECIPE + "\n", encoding="utf-8")
    if cache.root.exists():
        for point in mounts_under(cache.root):
            unmount(point)
        shutil.rmtree(cache.root)
    building.rename(cache.root)
    return f"built {cache.root}: debootstrap {_minutes(first)}, second stage {_minutes(second)} (emulated)"


def copy_repository(root: Path) -> None:
    """This working tree, as it is, into the root: the notebooks run there and may write files."""
    target = root / REPO_IN_ROOT.lstrip("/")
    shutil.rmtree(target, ignore_errors=True)
    skip = shutil.ignore_patterns(
        ".git", ".venv*", "build", ".cache", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache",
        "my-notebooks*", "wheelhouse", "node_modules", ".hub-state", "*.egg-info",
    )  # fmt: skip
    shutil.copytree(REPO_ROOT, target, ignore=skip, symlinks=True)


def ensure_venv(cache: Cache, key: str, log: Path) -> str:
    """The venv from the pins inside the root (reused when the pins have not changed); the package is
    installed in editable mode from the copy of the repository, which each run refreshes."""
    venv = cache.venv_in_root(key)
    if cache.venv_ready(key):
        return f"reused {venv} (pins {key})"
    root = cache.root
    for old in (root / "opt").glob("venv-*"):  # built from other pins
        shutil.rmtree(old)
    shutil.copyfile("/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/certs/ca-certificates.crt")
    shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
    copy_repository(root)
    env = root_environment()
    pip = [f"{venv}/bin/python", "-m", "pip", "install", "--progress-bar", "off"]
    started = time.perf_counter()
    run(in_root(root, ["/usr/bin/python3", "-m", "venv", venv]), "python3 -m venv (emulated)", env=env, log=log)
    with mounted(root):
        pins = run(
            in_root(root, [*pip, "-r", f"{REPO_IN_ROOT}/requirements.txt", "-c", f"{REPO_IN_ROOT}/constraints.txt"]),
            "pip install -r requirements.txt -c constraints.txt (emulated)", env=env, log=log,
        )  # fmt: skip
        run(
            in_root(root, [*pip, "--no-deps", "-c", f"{REPO_IN_ROOT}/constraints.txt", "-e", REPO_IN_ROOT]),
            "pip install -e . (emulated)", env=env, log=log,
        )  # fmt: skip
        run(
            in_root(root, [f"{venv}/bin/python", "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
                           "--display-name", "Python 3 (ipykernel)"]),
            "ipykernel install (emulated)", env=env, log=log,
        )  # fmt: skip
        # Matplotlib builds its font cache on first use and says so on stderr, in whichever notebook is first.
        run(
            in_root(root, [f"{venv}/bin/python", "-c", "import matplotlib.font_manager"]),
            "matplotlib's font cache (emulated)", env=root_environment(venv), log=log,
        )  # fmt: skip
    (root / venv.lstrip("/") / VENV_STAMP).write_text(key + "\n", encoding="utf-8")
    return f"built {venv} (pins {key}) in {_minutes(time.perf_counter() - started)}, pip install -r: {_minutes(pins)}"


@contextmanager
def locked(cache: Cache):
    """One run at a time per cache: two would rebuild and mount the same root."""
    cache.path.mkdir(parents=True, exist_ok=True)
    with open(cache.path / ".lock", "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise SetupError(
                f"another portability-arm run (pid {handle.read().strip() or '?'}) is using {cache.path}: "
                "wait for it to end, or give this one another cache with " + CACHE_VARIABLE
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield


# ---- the probe: what the kernel runs on, and whether the emulator computes products right ------

# (label, the float32 product, computed again in float64). Odd row counts are the ones qemu 7.2's SVE
# got wrong under its `max` CPU; (16, 16) is one it got right.
PROBE = r"""
import json, platform, re, torch
g = torch.Generator().manual_seed(0)
def r(*shape):
    return torch.randn(*shape, generator=g)
a7, b7, a33, b33, a16, b16 = r(7, 16), r(7, 16), r(33, 5), r(33, 5), r(16, 16), r(16, 16)
ba, bb, w, x, v = r(3, 7, 16), r(3, 9, 16), r(50, 33), r(5, 33), r(16)
cases = {
    "(7,16) @ (7,16).T": (lambda t: t[0] @ t[1].T, (a7, b7)),
    "(7,16) @ (16,7), contiguous": (lambda t: t[0] @ t[1].T.contiguous(), (a7, b7)),
    "(33,5) @ (33,5).T": (lambda t: t[0] @ t[1].T, (a33, b33)),
    "(33,5).T @ (33,5)": (lambda t: t[0].T @ t[1], (a33, b33)),
    "(16,16) @ (16,16).T": (lambda t: t[0] @ t[1].T, (a16, b16)),
    "batched (3,7,16) @ (3,9,16).mT": (lambda t: t[0] @ t[1].mT, (ba, bb)),
    "linear (5,33) by (50,33)": (lambda t: torch.nn.functional.linear(t[0], t[1]), (x, w)),
    "(7,16) @ (16,)": (lambda t: t[0] @ t[1], (a7, v)),
}
checked = []
for label, (product, operands) in cases.items():
    single = product(operands)
    double = product(tuple(o.double() for o in operands))
    error = (single.double() - double).abs().max().item()
    scale = double.abs().max().item()
    checked.append({"product": label, "error": error, "right": error <= 1e-5 * max(1.0, scale)})
blas = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
print(json.dumps({
    "machine": platform.machine(),
    "torch": torch.__version__,
    "capability": torch.backends.cpu.get_cpu_capability(),
    "blas": blas.group(1) if blas else "not named in torch.__config__.show()",
    "products": checked,
}))
"""

RUN_PROBE = "import sys; from tools.regen_notebooks import run_code; print(run_code(sys.stdin.read(), timeout=900))"


def probe_problems(seen: dict) -> list[str]:
    """Why the emulated machine cannot be trusted (empty: it can)."""
    problems = []
    if seen["machine"] != "aarch64":
        problems.append(f"the kernel runs on {seen['machine']}, not aarch64: this check would not test ARM")
    if seen.get("printed"):
        problems.append(
            "importing torch in a kernel printed this, which nbval would compare in every notebook:\n" + seen["printed"]
        )
    wrong = [p for p in seen["products"] if not p["right"]]
    if wrong:
        problems.append(
            "the emulated CPU computes float32 matrix products wrongly (float64 disagrees): "
            + "; ".join(f"{p['product']} off by {p['error']:.3g}" for p in wrong)
            + ". This is the emulator, not the series: run qemu with a CPU that has no SVE "
            + f"(QEMU_CPU={EMULATED_CPU} or cortex-a72), or a qemu newer than Debian 12's 7.2"
        )
    return problems


def describe_probe(seen: dict) -> str:
    worst = max(p["error"] for p in seen["products"])
    return (
        f"{seen['machine']}, torch {seen['torch']}, CPU capability {seen['capability']}, BLAS {seen['blas']}; "
        f"{sum(p['right'] for p in seen['products'])} of {len(seen['products'])} float32 products agree with "
        f"float64 (largest difference {worst:.1e})"
    )


def probe(root: Path, venv: str, emulated_cpu: str = EMULATED_CPU) -> dict:
    """Run the probe in a fresh kernel inside the root, as the notebooks' kernels run."""
    env = {**root_environment(venv), "QEMU_CPU": emulated_cpu}
    command = in_root(root, ["/usr/bin/env", f"--chdir={REPO_IN_ROOT}", f"{venv}/bin/python", "-c", RUN_PROBE])
    result = subprocess.run(command, input=PROBE, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SetupError(f"the probe kernel did not run (exit status {result.returncode}):\n{result.stderr[-3000:]}")
    *printed, last = result.stdout.strip().splitlines()
    return {**json.loads(last), "printed": "\n".join(printed)}  # printed: anything else the kernel showed


# ---- nbval, one notebook at a time per core, each within its budget ---------------------------


@dataclass
class Outcome:
    notebook: Path
    seconds: float = 0.0
    cells: int = 0  # cells nbval checked
    timed_out_at: int | None = None  # the cell that was running when the budget ran out
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.problems:
            return "FAILED"
        return "not run to the end" if self.timed_out_at is not None else "passed"

    def detail(self, budget_minutes: float) -> str:
        if self.problems:
            n = len(self.problems)
            return f"{n} cell{'s differ' if n != 1 else ' differs'} (below)"
        if self.timed_out_at is not None:
            return (
                f"timed out after {budget_minutes:g} min at cell {self.timed_out_at}; "
                f"the {self.cells} cell{'s' * (self.cells != 1)} before it agree with their stored outputs"
            )
        return f"{self.cells} cells agree with their stored outputs"

    def summary(self, budget_minutes: float) -> str:
        return f"{self.status} ({_minutes(self.seconds)}): {self.detail(budget_minutes)}"


CELL_LINE = re.compile(r"::Cell (\d+)(.*)")


class NotebookRun:
    """nbval over one notebook inside the root, in the background."""

    def __init__(self, root: Path, venv: str, notebook: Path, work: Path, budget_minutes: float):
        self.notebook = notebook
        name = notebook.name.removesuffix(".ipynb")
        self.report = work / f"{name}.xml"  # work is inside the root
        self.log = work / f"{name}.log"
        self.report.unlink(missing_ok=True)
        inside = f"{REPO_IN_ROOT}/{notebook.relative_to(REPO_ROOT)}"
        command = nbval_command(f"{venv}/bin/python", [inside])
        # -v instead of -q: each cell's name is printed when it starts, which tells where a timeout hit.
        command[command.index("-q")] = "-v"
        command += [
            f"--junitxml=/{self.report.relative_to(root)}",
            # The budget is the only limit: nbval's own (2000 s a cell, 60 s for a kernel to start) would
            # fail a slow emulated cell or kernel as if its output were wrong.
            f"--nbval-cell-timeout={budget_minutes * 60:.0f}",
            f"--nbval-kernel-startup-timeout={budget_minutes * 60:.0f}",
        ]
        self.started = time.perf_counter()
        self.seconds = 0.0  # its wall time, once it has ended or been stopped
        self.family: dict[int, str] = {}  # pid: start time, of every process nbval started
        with open(self.log, "w", encoding="utf-8") as out:
            self.process = subprocess.Popen(
                in_root(root, ["/usr/bin/env", f"--chdir={REPO_IN_ROOT}", *command]),
                # Unbuffered: the log shows each cell as it starts, not when a buffer fills.
                env={**root_environment(venv), "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def elapsed(self) -> float:
        return self.seconds or time.perf_counter() - self.started

    def running_cell(self) -> int:
        """The cell nbval is at: the last one it named, or the one after it if that one has its verdict."""
        lines = CELL_LINE.findall(self.log.read_text(encoding="utf-8", errors="replace"))
        if not lines:
            return 0
        cell, verdict = lines[-1]
        return int(cell) + 1 if verdict.strip() else int(cell)

    def remember_family(self) -> None:
        """Note the processes nbval started (its kernel runs in a session of its own, so no process group
        holds it): once nbval has ended they are no longer its children, and are found by these ids."""
        self.family.update(descendants(self.process.pid))

    def stop(self) -> None:
        """Out of time: pytest on SIGINT still writes its report of the cells it ran."""
        self.remember_family()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def end_family(self) -> None:
        """Kill what is left of the processes nbval started (a kernel), by their ids, and wait until they
        are gone: until then the mounts they use are busy."""
        alive = {pid: started for pid, started in self.family.items() if _start_time(pid) == started}
        for pid in alive:  # the same processes, not new ones with their ids
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 60
        while any(_start_time(pid) == started for pid, started in alive.items()) and time.monotonic() < deadline:
            time.sleep(0.2)

    def outcome(self, timed_out_at: int | None) -> Outcome:
        outcome = Outcome(self.notebook, seconds=self.elapsed(), timed_out_at=timed_out_at)
        if not self.report.exists():
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            outcome.problems.append(f"nbval wrote no report (exit status {self.process.returncode}):\n{tail}")
            return outcome
        outcome.cells = sum(nbval_cells(self.report).values())
        for (_, cell), message in sorted(nbval_failures(self.report).items()):
            if cell == timed_out_at and "KeyboardInterrupt" in message:
                continue  # the cell the budget interrupted: not a difference
            outcome.problems.append(f"cell {cell}:\n" + _indent(nbval_diff(message), "    "))
        if timed_out_at is not None:
            outcome.cells = min(outcome.cells, timed_out_at)
        elif self.process.returncode not in (0, 1) and not outcome.problems:
            outcome.problems.append(f"nbval exited with status {self.process.returncode}")
        elif outcome.cells == 0:
            outcome.problems.append("nbval checked no cell")
        return outcome


def run_notebooks(root: Path, venv: str, notebooks: list[Path], jobs: int, budget_minutes: float, report) -> list:
    """Every notebook under nbval, `jobs` at a time, in the order given; each stopped at the budget."""
    work = root / "tmp" / "portability-arm"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    waiting = list(notebooks)
    running: list[NotebookRun] = []
    outcomes = []
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                running.append(NotebookRun(root, venv, waiting.pop(0), work, budget_minutes))
            time.sleep(2)
            for job in list(running):
                job.remember_family()
                out_of_time = job.elapsed() > budget_minutes * 60
                if job.process.poll() is None and not out_of_time:
                    continue
                at = None
                job.seconds = job.elapsed()
                if job.process.poll() is None:
                    at = job.running_cell()
                    job.stop()
                job.end_family()
                running.remove(job)
                outcome = job.outcome(at)
                outcomes.append(outcome)
                report(outcome)
    finally:
        for job in running:  # interrupted: nothing of this run keeps running
            job.remember_family()
            job.process.kill()
            job.process.wait()
            job.end_family()
    return outcomes


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def descendants(pid: int) -> dict[int, str]:
    """{pid: start time} of every process below pid."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = {}, list(children.get(pid, []))
    while todo:
        child = todo.pop()
        started = _start_time(child)
        if started is not None:
            found[child] = started
        todo += children.get(child, [])
    return found


def start_order(notebooks: list[Path], last_times: dict[str, float]) -> list[Path]:
    """Longest first, by what the last run measured (the training notebooks take the whole budget);
    notebooks it did not run first of all, in make test's order (tools/longest_first.py)."""

    def key(notebook: Path) -> tuple:
        seconds = last_times.get(str(notebook.relative_to(REPO_ROOT)), float("inf"))
        return (-seconds, longest_first.start_order(notebook))

    return sorted(notebooks, key=key)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


# ---- the report --------------------------------------------------------------------------------


def repository_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True)  # fmt: skip
    except FileNotFoundError:
        return "not a git checkout"
    if head.returncode:
        return "not a git checkout"
    return head.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def disk_used(path: Path) -> str:
    result = subprocess.run(["du", "-sh", "--one-file-system", str(path)], capture_output=True, text=True)
    return result.stdout.split()[0] if result.returncode == 0 else "?"


def write_report(lines: list[str], outcomes: list[Outcome], budget_minutes: float) -> None:
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    table = ["| notebook | result | | wall time |", "|---|---|---|---|"]
    details = []
    for o in sorted(outcomes, key=lambda o: str(o.notebook)):
        name = str(o.notebook.relative_to(REPO_ROOT))
        table.append(f"| {name} | {o.status} | {o.detail(budget_minutes)} | {_minutes(o.seconds)} |")
        if o.problems:
            details += [f"### {name}", "", "```", *[line for p in o.problems for line in p.splitlines()], "```", ""]
    text = ["# make portability-arm", "", *[f"- {line}" for line in lines], "", *table, ""]
    if details:
        text += ["## Differences", "", *details]
    REPORT.write_text("\n".join(text) + "\n", encoding="utf-8")


# ---- main --------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter and solution")
    parser.add_argument("--budget-minutes", type=float, default=BUDGET_MINUTES,
                        help=f"each notebook's time budget under emulation (default {BUDGET_MINUTES})")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 8),
                        help="notebooks at once, one kernel each (default: one per core, at most 8)")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get(CACHE_VARIABLE, DEFAULT_CACHE)),
                        help=f"the arm64 root and its venv (default ${CACHE_VARIABLE} or {DEFAULT_CACHE})")  # fmt: skip
    parser.add_argument("--binfmt-dir", type=Path, default=BINFMT_DIR, help=f"binfmt_misc (default {BINFMT_DIR})")
    parser.add_argument("--min-free-gib", type=float, default=None,
                        help="free space to require before building (default: what is not cached needs)")  # fmt: skip
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or all_notebooks()
    cache = Cache(args.cache.resolve())
    key = venv_key()
    started = time.perf_counter()

    # Stopped with SIGTERM (a CI timeout): unwind as on Ctrl+C, so that every mount is undone and every kernel ended.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    problems, install, binfmt_mounted = preflight(cache, key, args.binfmt_dir, args.min_free_gib)
    try:
        if problems:
            print("portability-arm cannot start:", *[f"  - {p}" for p in problems], sep="\n", file=sys.stderr)
            return 1
        return check(cache, key, notebooks, args, install, started)
    except SetupError as error:
        print(f"portability-arm: {error}", file=sys.stderr)
        return 1
    finally:
        if binfmt_mounted:  # ours to unmount; qemu's registration goes with it (seen on Linux 6.18)
            unmount(args.binfmt_dir)


def check(cache: Cache, key: str, notebooks: list[Path], args, install: bool, started: float) -> int:
    lines = [f"repository: {repository_state()}, {_count(len(notebooks), 'notebook')}"]

    def say(line: str) -> None:
        print(f"==> {line}", flush=True)
        lines.append(line)

    log = REPORT.parent / "setup.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")
    if install:
        print("==> installing " + " ".join(HOST_PACKAGES), flush=True)
        apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], "apt-get update", env=apt, log=log)
        run(["apt-get", "install", "-y", "-q", *HOST_PACKAGES], f"apt-get install {' '.join(HOST_PACKAGES)}",
            env=apt, log=log)  # fmt: skip
    say(f"qemu-aarch64 in binfmt_misc: {register_qemu(args.binfmt_dir)}; emulated CPU {EMULATED_CPU} (QEMU_CPU)")
    with locked(cache):
        stale = mounts_under(cache.path)
        for point in stale:  # a run that was killed could not unmount them
            unmount(point)
        if stale:
            say(f"unmounted {len(stale)} mounts an earlier run left: {', '.join(map(str, stale))}")
        print(f"==> the arm64 root (set-up log: {log.relative_to(REPO_ROOT)})", flush=True)
        say(f"root: {ensure_root(cache, log)}")
        say(f"venv: {ensure_venv(cache, key, log)}")
        venv = cache.venv_in_root(key)
        copy_repository(cache.root)
        say(f"set-up: {_minutes(time.perf_counter() - started)}; cache: {disk_used(cache.path)} in {cache.path}")
        with mounted(cache.root):
            probe_started = time.perf_counter()
            seen = probe(cache.root, venv)
            say(f"probe ({_minutes(time.perf_counter() - probe_started)}): {describe_probe(seen)}")
            failed = probe_problems(seen)
            if failed:
                for problem in failed:
                    print(f"portability-arm: {problem}", file=sys.stderr)
                write_report([*lines, *(f"probe FAILED: {p}" for p in failed)], [], args.budget_minutes)
                return 1
            say(f"nbval: {args.jobs} notebooks at a time, each within {args.budget_minutes:g} min")

            def report(outcome: Outcome) -> None:
                print(f"    {outcome.notebook.relative_to(REPO_ROOT)}: {outcome.summary(args.budget_minutes)}",
                      flush=True)  # fmt: skip
                for problem in outcome.problems:
                    print(_indent(problem, "        "), flush=True)

            times_file = cache.path / "last-times.json"
            last_times = json.loads(times_file.read_text()) if times_file.exists() else {}
            ordered = start_order(notebooks, last_times)
            outcomes = run_notebooks(cache.root, venv, ordered, args.jobs, args.budget_minutes, report)
            last_times.update({str(o.notebook.relative_to(REPO_ROOT)): round(o.seconds) for o in outcomes})
            times_file.write_text(json.dumps(last_times, indent=1, sort_keys=True) + "\n")
    counts = {s: sum(o.status == s for o in outcomes) for s in ("passed", "FAILED", "not run to the end")}
    say(
        f"{counts['passed']} passed, {counts['FAILED']} failed, {counts['not run to the end']} not run to the end "
        f"of {_count(len(outcomes), 'notebook')}; {_minutes(time.perf_counter() - started)} in all"
    )
    write_report(lines, outcomes, args.budget_minutes)
    print(f"report: {REPORT.relative_to(REPO_ROOT)}")
    return 1 if counts["FAILED"] else 0


if __name__ == "__main__":
    sys.exit(main())
