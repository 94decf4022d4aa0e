"""tools/portability_arm.py: each set-up problem stops it before anything is built, with a message that names
the fix; the probe refuses a kernel that is not aarch64, and catches qemu 7.2's wrong SVE products."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import portability_arm, series
from tools.regen_notebooks import run_code
from tools.series import REPO_ROOT

pytestmark = pytest.mark.integration  # runs the tool, or a kernel, as a process

# The tool's own side is the standard library only; an unprivileged user may not be able to run this venv's
# Python (it can live under /root), but can run Debian's.
SYSTEM_PYTHON = "/usr/bin/python3"


def run_tool(cache: Path, *args: str, prefix=(), python=sys.executable, env=None) -> subprocess.CompletedProcess:
    """The tool with its cache, and binfmt_misc unless args name one, in a temporary directory: a test never
    mounts or unmounts the machine's own binfmt_misc, which a real run may be using."""
    if "--binfmt-dir" not in args:
        (cache.parent / "binfmt_misc").mkdir(exist_ok=True)
        args = ("--binfmt-dir", str(cache.parent / "binfmt_misc"), *args)
    command = [*prefix, python, "-m", "tools.portability_arm", "--cache", str(cache), *args]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env)


def mounted_at(path: Path) -> bool:
    return any(line.split()[1] == str(path) for line in Path("/proc/self/mounts").read_text().splitlines())


def test_as_an_unprivileged_user_it_stops_and_says_to_run_it_as_root(tmp_path):
    cache = tmp_path / "cache"
    if os.geteuid() == 0:  # a real unprivileged user
        result = run_tool(cache, prefix=["runuser", "-u", "nobody", "--"], python=SYSTEM_PYTHON)
    else:
        result = run_tool(cache)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "portability-arm needs root" in result.stderr and "sudo make portability-arm" in result.stderr
    assert not cache.exists()


def test_without_binfmt_misc_it_stops_and_says_how_to_get_it(tmp_path):
    binfmt = tmp_path / "binfmt_misc"  # not mounted: an empty directory
    binfmt.mkdir()
    cache = tmp_path / "cache"
    # As root, without the capability to mount (as in an unprivileged container), mounting binfmt_misc fails.
    prefix = ["setpriv", "--bounding-set", "-sys_admin", "--"] if os.geteuid() == 0 else []
    result = run_tool(cache, "--binfmt-dir", str(binfmt), prefix=prefix)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"binfmt_misc is not mounted at {binfmt}, and mounting it failed" in result.stderr
    assert "modprobe binfmt_misc" in result.stderr and f"mount -t binfmt_misc binfmt_misc {binfmt}" in result.stderr
    assert not mounted_at(binfmt) and not any(binfmt.iterdir()) and not cache.exists()


def test_without_qemu_and_apt_get_it_stops_and_names_the_packages(tmp_path):
    cache = tmp_path / "cache"
    empty = tmp_path / "bin"  # a PATH with no qemu-aarch64-static, debootstrap or apt-get on it
    empty.mkdir()
    result = run_tool(cache, env={**os.environ, "PATH": str(empty)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "qemu-aarch64-static and debootstrap not found, and apt-get is not on PATH" in result.stderr
    assert "apt-get install qemu-user-static binfmt-support debootstrap" in result.stderr
    assert not cache.exists()


def test_without_enough_free_disk_space_it_stops_before_debootstrap(tmp_path):
    cache = tmp_path / "cache"
    result = run_tool(cache, "--min-free-gib", "1000000")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not enough free disk space" in result.stderr and "1000000.0 GiB needed" in result.stderr
    assert f"{portability_arm.CACHE_VARIABLE}=/path/with/space make portability-arm" in result.stderr
    assert not cache.exists()  # debootstrap never ran


def test_an_empty_cache_needs_room_for_the_root_and_the_venv(tmp_path):
    cache = portability_arm.Cache(tmp_path / "cache")
    problem = portability_arm.disk_problem(cache, "0123456789ab", None)
    _, free = portability_arm.free_bytes(cache.path)
    needed = portability_arm.ROOT_NEEDS_GIB + portability_arm.VENV_NEEDS_GIB
    assert (problem is None) == (free >= needed * portability_arm.GIB)
    if problem:
        assert f"{needed:.1f} GiB needed" in problem


def test_the_probe_refuses_a_kernel_that_is_not_aarch64():
    seen = json.loads(run_code(portability_arm.PROBE).strip().splitlines()[-1])
    assert seen["machine"] != "aarch64"  # this test runs on the x86 machines CI has
    assert all(p["right"] for p in seen["products"]), seen["products"]
    problems = portability_arm.probe_problems(seen)
    assert problems == [f"the kernel runs on {seen['machine']}, not aarch64: this check would not test ARM"]


@pytest.mark.slow
@pytest.mark.arm64
def test_the_probe_catches_qemus_wrong_sve_products_under_its_default_cpu():
    """Needs the arm64 root and venv that make portability-arm caches (make portability-arm runs this)."""
    cache = portability_arm.Cache(Path(os.environ.get(portability_arm.CACHE_VARIABLE, portability_arm.DEFAULT_CACHE)))
    key = portability_arm.venv_key()
    if not (cache.root_ready() and cache.venv_ready(key)):
        pytest.fail(f"no arm64 root with a venv for these pins in {cache.path}: run make portability-arm first")
    venv = cache.venv_in_root(key)
    with portability_arm.locked(cache), portability_arm.binfmt_registered():
        portability_arm.copy_repository(cache.root)
        with portability_arm.mounted(cache.root):
            default_cpu = portability_arm.probe(cache.root, venv, emulated_cpu="max")
            pinned_cpu = portability_arm.probe(cache.root, venv)
    assert default_cpu["machine"] == pinned_cpu["machine"] == "aarch64"
    caught = portability_arm.probe_problems(default_cpu)
    assert len(caught) == 1 and "computes float32 matrix products wrongly" in caught[0], caught
    assert "(7,16) @ (7,16).T off by" in caught[0]
    assert portability_arm.probe_problems(pinned_cpu) == []


def test_notebooks_start_longest_first_by_the_last_runs_times_and_new_ones_before_them():
    notebooks = series.all_notebooks()
    chapter, solution = series.chapters()[5], series.solutions()[5]  # 06: the two that train
    last_times = {str(p.relative_to(REPO_ROOT)): 60.0 for p in notebooks if p != series.chapters()[0]}
    last_times.update({str(chapter.relative_to(REPO_ROOT)): 900.0, str(solution.relative_to(REPO_ROOT)): 901.0})
    order = portability_arm.start_order(notebooks, last_times)
    assert order[:3] == [series.chapters()[0], solution, chapter]  # 01 was not measured: it goes first
    assert sorted(order) == sorted(notebooks)


@pytest.mark.parametrize("pin_file", portability_arm.PINS)
def test_a_change_of_a_pin_file_needs_a_new_venv_and_keeps_the_root(pin_file, tmp_path):
    for name in portability_arm.PINS:
        (tmp_path / name).write_bytes((REPO_ROOT / name).read_bytes())
    before = portability_arm.venv_key(tmp_path)
    cache = portability_arm.Cache(tmp_path / "cache")
    (cache.root / "opt" / f"venv-{before}").mkdir(parents=True)
    (cache.root / "opt" / f"venv-{before}" / portability_arm.VENV_STAMP).write_text(before)
    (cache.root / portability_arm.ROOT_STAMP).write_text(portability_arm.ROOT_RECIPE + "\n")
    assert cache.root_ready() and cache.venv_ready(before)

    with open(tmp_path / pin_file, "a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    after = portability_arm.venv_key(tmp_path)

    assert after != before and not cache.venv_ready(after)
    assert cache.root_ready()
