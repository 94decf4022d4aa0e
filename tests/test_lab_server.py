"""`make lab` serves JupyterLab safely: on loopback only, and nothing without the token."""

import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # starts JupyterLab through make
REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port):
    """Local addresses of sockets in LISTEN state on ``port``, read from /proc/net/tcp{,6}."""
    found = set()
    for table, width in [("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)]:
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, 32, 8))
                    found.add(socket.inet_ntop(socket.AF_INET6, raw))
    return found


def status(url, token=None):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        return urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as error:
        return error.code


def test_make_lab_listens_on_loopback_only_and_refuses_requests_without_the_token(tmp_path):
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    server = subprocess.Popen(
        ["make", "-C", str(REPO_ROOT), "lab", f"PORT={port}", f"WORK={tmp_path / 'work'}", "LAB_ARGS=--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,  # so the whole process group can be stopped
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.time() + 90
        token = None
        while token is None and time.time() < deadline and server.poll() is None:
            printed = "".join(lines)
            match = re.search(rf"http://127\.0\.0\.1:{port}/lab/tree/index\.ipynb\?token=([0-9a-f]+)", printed)
            # Up once JupyterLab itself prints its address (it hides a token it did not make).
            token = match.group(1) if match and f"http://127.0.0.1:{port}/lab?token=" in printed else None
            time.sleep(0.5)
        assert token, "make lab printed no URL with a token:\n" + "".join(lines)

        assert listening_addresses(port) == {"127.0.0.1"}
        base = f"http://127.0.0.1:{port}"
        assert status(f"{base}/api/contents") == 403
        assert status(f"{base}/api/contents", token="wrong-token") == 403
        assert status(f"{base}/api/contents", token=token) == 200
        # It serves the learner's own copy, made on first use, not the reference notebooks.
        assert (tmp_path / "work" / "index.ipynb").is_file()
        assert (tmp_path / "work" / "solutions").is_dir()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
