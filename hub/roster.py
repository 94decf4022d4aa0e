"""The class roster: who may log in to the class server, and the checks made before the hub starts.

A roster is a text file with one username a line. Blank lines and lines starting with # are
ignored. Each name becomes a system user on this machine, so names follow the rules that
`useradd` accepts on every Linux: lowercase letters, digits, "-" and "_", starting with a letter,
at most 32 characters.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

HOW_TO_MAKE_ONE = (
    "Make a roster: a text file with one student username a line (lowercase letters, digits, - and _),\n"
    "for example\n"
    "    printf 'alice\\nbob\\n' > roster.txt\n"
    "then start the hub with it:\n"
    "    CLASS_ROSTER=roster.txt make hub"
)


class RosterError(ValueError):
    """The roster is missing or unusable; the message says what is wrong and how to fix it."""


def read_roster(path: str | os.PathLike | None) -> list[str]:
    """The usernames in the roster file at `path`, in file order; RosterError if it is unusable."""
    if not path:
        raise RosterError(
            "CLASS_ROSTER is not set: the hub needs a class roster to know who may log in.\n" + HOW_TO_MAKE_ONE
        )
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"CLASS_ROSTER={path}: no such file.\n" + HOW_TO_MAKE_ONE)
    names, problems, seen = [], [], {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        name = raw.strip()
        if not name or name.startswith("#"):
            continue
        if not NAME.match(name):
            hint = f" (try {name.lower()!r})" if NAME.match(name.lower()) else ""
            problems.append(f"  line {number}: {name!r} is not a valid username{hint}")
        elif name in seen:
            problems.append(f"  line {number}: {name!r} is already on line {seen[name]}")
        else:
            seen[name] = number
            names.append(name)
    if problems:
        raise RosterError(
            f"CLASS_ROSTER={path} has names the hub cannot use:\n" + "\n".join(problems) + "\n"
            "Usernames are lowercase letters, digits, - and _, start with a letter, are at most 32 "
            "characters long, and appear once. Fix those lines and start the hub again."
        )
    if not names:
        raise RosterError(f"CLASS_ROSTER={path} lists no usernames.\n" + HOW_TO_MAKE_ONE)
    return names


def read_admins(value: str | None) -> list[str]:
    """The comma-separated ADMIN_USERS, checked like roster names."""
    admins = [name.strip() for name in (value or "").split(",") if name.strip()]
    bad = [name for name in admins if not NAME.match(name)]
    if bad:
        raise RosterError(
            f"ADMIN_USERS has names the hub cannot use: {', '.join(map(repr, bad))}. "
            "Use lowercase letters, digits, - and _, separated by commas."
        )
    return admins


def foreign_accounts(names: list[str], student_group: str) -> list[str]:
    """Names that are already system accounts not made by this hub (root, the instructor, a service).

    A student's server runs as the system user of the same name, so such a name would hand that
    account to whoever logs in first.
    """
    try:
        members = set(grp.getgrnam(student_group).gr_mem)
        gid = grp.getgrnam(student_group).gr_gid
    except KeyError:
        members, gid = set(), None
    foreign = []
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if name not in members and entry.pw_gid != gid:
            foreign.append(name)
    return foreign


if __name__ == "__main__":  # `make hub` checks the roster before it spends time on set-up
    import sys

    try:
        print(
            f"==> roster {os.environ.get('CLASS_ROSTER')}: {len(read_roster(os.environ.get('CLASS_ROSTER')))} students"
        )
        read_admins(os.environ.get("ADMIN_USERS"))
    except RosterError as error:
        sys.exit(f"make hub: {error}")
