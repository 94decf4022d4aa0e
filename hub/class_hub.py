"""The two pieces of the class server that are code, not settings (used by jupyterhub_config.py)."""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from urllib.parse import urlencode

from firstuseauthenticator import FirstUseAuthenticator


class RosterAuthenticator(FirstUseAuthenticator):
    """FirstUseAuthenticator that says why a log-in failed: not on the roster, or a wrong password."""

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        if name not in self.allowed_users and name not in self.admin_users:
            handler.custom_login_error = (
                f"{name!r} is not on the class roster. Check the spelling, or ask your instructor to add you."
            )
            return None
        result = await super().authenticate(handler, data)
        if result is None and not getattr(handler, "custom_login_error", ""):
            handler.custom_login_error = (
                f"Wrong password for {name!r}. If you forgot it, ask your instructor to reset it (your files are kept)."
            )
        return result


def ensure_system_user(spawner) -> None:
    """Pre-spawn hook: each student is a system user of the same name, with a private home.

    FirstUseAuthenticator is not a LocalAuthenticator, so nothing else creates the account.
    An existing account is used only if this hub made it (it is in the students' group).
    """
    name = spawner.user.name
    group = os.environ["HUB_STUDENT_GROUP"]
    try:
        grp.getgrnam(group)
    except KeyError:
        subprocess.run(["groupadd", "--system", group], check=True)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--gid", group, name], check=True)
        entry = pwd.getpwnam(name)
    if entry.pw_gid != grp.getgrnam(group).gr_gid or entry.pw_uid == 0:
        raise RuntimeError(f"{name} is a system account that this hub did not create; refusing to start a server as it")
    os.chmod(entry.pw_dir, 0o700)  # other students cannot look in
    # git refuses to read a repository owned by someone else (the instructor's checkout, which
    # nbgitpuller clones) unless the user's own git config names it as safe.
    repo = os.environ["HUB_REPO"]
    as_student = ["runuser", "-u", name, "--", "git", "config", "--global"]
    known = subprocess.run([*as_student, "--get-all", "safe.directory"], capture_output=True, text=True).stdout.split()
    for path in (repo, os.path.join(repo, ".git")):
        if path not in known:
            subprocess.run([*as_student, "--add", "safe.directory", path], check=True)


def nbgitpuller_path(repo: str, branch: str, folder: str, notebook: str) -> str:
    """The single-user server path that pulls the series into ~/folder and opens `notebook` in JupyterLab."""
    query = urlencode(
        {"repo": repo, "branch": branch, "targetpath": folder, "urlpath": f"lab/tree/{folder}/{notebook}"}
    )
    return f"/git-pull?{query}"
