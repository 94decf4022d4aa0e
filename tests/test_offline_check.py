"""tools/offline_check.sh refuses to pass when it cannot cut the network, and says what to do."""

import os
import subprocess
import sys

from tools import series

SCRIPT = series.REPO_ROOT / "tools" / "offline_check.sh"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=series.REPO_ROOT, capture_output=True, text=True, timeout=60, **kwargs)


def test_without_root_it_fails_and_says_to_run_it_as_root():
    command = ["bash", str(SCRIPT), sys.executable]
    if os.geteuid() == 0:  # a real unprivileged user
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    result = run(command)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "needs root" in result.stderr and "sudo make offline-check" in result.stderr
    assert "running the notebooks" not in result.stdout


def test_without_unshare_it_fails_and_names_the_package(tmp_path):
    (tmp_path / "id").write_text("#!/bin/sh\necho 0\n")  # as root, on a PATH with no unshare
    (tmp_path / "id").chmod(0o755)
    result = run(["/bin/bash", str(SCRIPT), sys.executable], env={"PATH": str(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "needs unshare" in result.stderr and "util-linux" in result.stderr
