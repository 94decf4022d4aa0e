"""A real class hub for the tests: hub/launch.py (as `make hub` starts it) on free loopback ports.

Each hub gets a throw-away roster of made-up names with a unique prefix, its own state folder and a
throw-away clone of this checkout's HEAD as the nbgitpuller source. Its clean-up stops the hub
(which stops the proxy and the servers) and removes the processes and system users it created,
by name and id. The hub and students are driven with the same code as `make hub-load`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from pathlib import Path

import pytest

from tools import hub_load

REPO_ROOT = Path(__file__).resolve().parent.parent

HUB_ENV = Path(os.environ.get("HUB_ENV", "/opt/embeddings-class"))


def pytest_configure(config):
    if os.geteuid() != 0:
        pytest.exit(
            "make test-hub needs root: the tests create (and remove) system users for their students", returncode=2
        )
    if not (HUB_ENV / "bin" / "jupyterhub").exists():
        pytest.exit(f"{HUB_ENV} has no JupyterHub: run `make test-hub`, which builds it", returncode=2)


def start_hub(tmp_path_factory, students: int, admins: int = 0, env: dict | None = None) -> hub_load.Run:
    args = argparse.Namespace(
        students=students,
        hub_env=str(HUB_ENV),
        out=tmp_path_factory.mktemp("hub-out"),
        deadline=1800,
        cell_timeout=300,
        spawn_timeout=300,
    )
    run = hub_load.Run(args, tag="ht", admins=admins, env=env)
    run.deadline = time.monotonic() + args.deadline
    run.start_hub()
    return run


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    """Four students and one instructor (an admin) on one hub."""
    run = start_hub(tmp_path_factory, students=4, admins=1)
    try:
        yield run
    finally:
        run.clean_up()


@pytest.fixture(scope="session")
def pulled(hub):
    """Students 1 and 2 logged in, with their servers started and the series pulled."""
    students = []
    for name in hub.names[:2]:
        student = hub_load.Student(hub, name, secrets.token_urlsafe(12))
        student.log_in()
        student.start_server()
        student.pull()
        students.append(student)
    return students
