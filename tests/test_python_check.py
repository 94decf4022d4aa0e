"""make names an unsupported Python, too old or too new, before it touches .venv or runs pip."""

import shutil
import subprocess

import pytest

from tools.python_check import verdict
from tools.series import REPO_ROOT


@pytest.mark.parametrize("version", [(3, 11, 2), (3, 11, 7), (3, 12, 1), (3, 13, 0)])
def test_the_tested_pythons_pass_silently(version):
    assert verdict(version) == (0, "")


@pytest.mark.parametrize("version", [(3, 10, 13), (3, 9, 18), (2, 7, 18)])
def test_an_old_python_is_refused_with_the_versions_to_use(version):
    status, message = verdict(version)
    assert status == 1
    assert f"Python {'.'.join(map(str, version))} is too old" in message and "3.11, 3.12 or 3.13" in message
    assert "PYTHON=python3.12" in message


def test_a_newer_python_is_refused_unless_asked_for():
    status, message = verdict((3, 14, 0))
    assert status == 1 and "Python 3.14.0 is newer than this series is tested with" in message
    assert "UNTESTED_PYTHON=1" in message
    status, message = verdict((3, 14, 0), allow_untested=True)
    assert status == 0 and message.startswith("warning: ")


@pytest.mark.integration
def test_make_stops_before_touching_the_venv_when_python_cannot_run(tmp_path):
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.split():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, tmp_path / name)
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "keep-me").write_text("a learner's environment\n")
    result = subprocess.run(
        ["make", "setup", "PYTHON=python3.99"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "cannot run PYTHON=python3.99 on this machine" in result.stdout + result.stderr
    assert (tmp_path / ".venv" / "keep-me").exists()


def test_the_cuda_build_is_told_apart_from_the_cpu_build_by_its_nvidia_libraries():
    from tools.torch_build import is_cuda_build

    cuda = ["filelock", 'nvidia-cublas==13.0.0.19; platform_system == "Linux"', "sympy>=1.13.3"]
    assert is_cuda_build("2.13.0", cuda)
    assert not is_cuda_build("2.13.0+cpu", ["filelock", "sympy>=1.13.3"])
    assert not is_cuda_build("2.13.0", ["filelock", "sympy>=1.13.3"])  # macOS, Windows, Linux on ARM: CPU builds
