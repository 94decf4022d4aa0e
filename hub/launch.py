"""Start the class server: check everything the hub needs, then hand over to JupyterHub.

Run by `make hub` (and by the load tool and tests) as root, with the shared environment's Python.
Every problem found here stops the start with a message that says how to fix it.

Environment: CLASS_ROSTER (required), ADMIN_USERS, HUB_IP (127.0.0.1), HUB_PORT (8000),
HUB_API_PORT (8081), HUB_PROXY_API_PORT (8001), HUB_STATE (.hub-state in the checkout),
HUB_REPO (this checkout), HUB_BRANCH (its current branch), HUB_IDLE_TIMEOUT (3600 s),
HUB_CULL_EVERY (60 s), HUB_STUDENT_GROUP (class-students).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
from roster import RosterError, foreign_accounts, read_admins, read_roster  # noqa: E402


def fail(message: str) -> None:
    print(f"make hub: {message}", file=sys.stderr)
    sys.exit(2)


def git(*args: str, as_nobody: bool = False) -> subprocess.CompletedProcess:
    command, env = ["git", *args], dict(os.environ)
    if as_nobody:  # an unprivileged account sees what a student's nbgitpuller sees
        safe = tempfile.NamedTemporaryFile("w", suffix=".gitconfig", delete=False)
        safe.write("[safe]\n\tdirectory = *\n")
        safe.close()
        os.chmod(safe.name, 0o644)
        command, env["GIT_CONFIG_GLOBAL"] = ["runuser", "-u", "nobody", "--", *command], safe.name
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    finally:
        if as_nobody:
            os.unlink(safe.name)


def main() -> None:
    if os.geteuid() != 0:
        fail(
            "the hub must run as root: it creates a system user for each student and starts their "
            "server as that user. Run it as root (sudo make hub)."
        )
    try:
        names = read_roster(os.environ.get("CLASS_ROSTER"))
        admins = read_admins(os.environ.get("ADMIN_USERS"))
    except RosterError as error:
        fail(str(error))
    group = os.environ.setdefault("HUB_STUDENT_GROUP", "class-students")
    taken = foreign_accounts(names + admins, group)
    if taken:
        fail(
            f"{', '.join(taken)} already exist as system accounts that this hub did not create. A "
            "student's server runs as the system user of the same name, so the hub will not use them. "
            "Give those students other names in the roster."
        )

    repo = Path(os.environ.setdefault("HUB_REPO", str(REPO))).resolve()
    os.environ["HUB_REPO"] = str(repo)
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        fail(f"HUB_REPO={repo} is not a git repository. Point it at the instructor's checkout of the series.")
    # Students' servers clone it as the students, so every student account must be able to read it.
    if git("ls-remote", str(repo), "HEAD", as_nobody=True).returncode != 0:
        fail(
            f"students cannot read HUB_REPO={repo}: nbgitpuller clones it as each student. Make it and "
            "the folders above it readable by all (chmod o+rx on each folder), or put a clone where "
            "everyone can read it (e.g. git clone --bare . /srv/embeddings.git) and set HUB_REPO to it."
        )
    if "HUB_BRANCH" not in os.environ:
        head = git("-C", str(repo), "symbolic-ref", "--short", "HEAD")
        os.environ["HUB_BRANCH"] = head.stdout.strip() or "main"

    # Secrets and databases live in one folder that only root can open.
    state = Path(os.environ.setdefault("HUB_STATE", str(REPO / ".hub-state"))).resolve()
    os.environ["HUB_STATE"] = str(state)
    state.mkdir(parents=True, exist_ok=True)
    os.chown(state, 0, 0)
    state.chmod(0o700)
    token_file = state / "proxy_auth_token"
    if not token_file.exists():
        token_file.touch(mode=0o600)
        token_file.write_text(secrets.token_hex(32))
    os.environ["CONFIGPROXY_AUTH_TOKEN"] = token_file.read_text().strip()

    for key in ("JUPYTER_PATH", "JUPYTER_PLATFORM_DIRS", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        os.environ.pop(key, None)  # the project .venv's Jupyter settings are not the hub's
    # The config imports class_hub and roster from this folder; the hub and its services find them here.
    os.environ["PYTHONPATH"] = str(HERE)
    jupyterhub = Path(sys.executable).parent / "jupyterhub"
    os.chdir(state)
    os.execv(str(jupyterhub), [str(jupyterhub), "-f", str(HERE / "jupyterhub_config.py"), *sys.argv[1:]])


if __name__ == "__main__":
    main()
