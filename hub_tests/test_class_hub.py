"""The class server keeps students apart and keeps its secrets: each claim of docs/classroom-hub.md,
shown on a real JupyterHub with real system users, a real proxy and real nbgitpuller."""

from __future__ import annotations

import html
import json
import os
import pwd
import secrets
import subprocess
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import requests
from conftest import HUB_ENV, REPO_ROOT, hub_load, start_hub

import embeddings_course

LAUNCH = [str(HUB_ENV / "bin" / "python"), str(REPO_ROOT / "hub" / "launch.py")]


def outputs_text(outputs) -> str:
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"the student's code raised {errors[0].ename}: {errors[0].evalue}"
    return "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")


def attempts(student, checks: dict[str, str]) -> dict[str, str]:
    """Run each one-line action in the student's own kernel; what each one gave (ok or the error's name)."""
    code = (
        textwrap.dedent("""
        import json, os
        results = {}
        for label, action in %r.items():
            try:
                exec(action, {"os": os})
                results[label] = "ok"
            except Exception as exc:
                results[label] = type(exc).__name__
        print(json.dumps(results))
    """)
        % checks
    )
    return json.loads(outputs_text(student.run_code(code)))


def log_in(hub, name: str, password: str) -> requests.Response:
    http = requests.Session()
    http.get(f"{hub.base}/hub/login", timeout=30)
    return http.post(
        f"{hub.base}/hub/login",
        allow_redirects=False,
        timeout=60,
        data={"username": name, "password": password, "_xsrf": http.cookies.get("_xsrf")},
    )


# --------------------------------------------------------------------------------------------
# Bad input: make hub refuses to start, and says how to fix it
# --------------------------------------------------------------------------------------------

ROSTERS = {
    "missing variable": (None, "CLASS_ROSTER is not set"),
    "missing file": ("no-such-roster.txt", "no such file"),
    "empty": ("# nobody yet\n\n", "lists no usernames"),
    "bad names": ("alice\nBob Smith\nCarol\nalice\n", "line 2: 'Bob Smith' is not a valid username"),
    "a system account": ("root\n", "root already exist as system accounts"),
}


@pytest.mark.parametrize("case", ROSTERS, ids=list(ROSTERS))
def test_hub_refuses_a_bad_roster_and_says_how_to_fix_it(case, tmp_path):
    content, expected = ROSTERS[case]
    env = {k: v for k, v in os.environ.items() if k != "CLASS_ROSTER"}
    if content is not None:
        roster = tmp_path / "roster.txt"
        if case != "missing file":
            roster.write_text(content)
        env["CLASS_ROSTER"] = str(roster)
    env["HUB_STATE"] = str(tmp_path / "state")
    result = subprocess.run(LAUNCH, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr
    if case == "bad names":  # every bad line is named, with the fix
        assert "line 3: 'Carol' is not a valid username (try 'carol')" in result.stderr
        assert "line 4: 'alice' is already on line 1" in result.stderr
    elif case == "a system account":
        assert "Give those students other names" in result.stderr
    else:
        assert "printf 'alice\\nbob\\n' > roster.txt" in result.stderr  # how to make one
    assert not (tmp_path / "state").exists(), "nothing is set up before the roster is good"


def test_make_hub_without_a_roster_stops_before_any_setup():
    env = {k: v for k, v in os.environ.items() if k not in ("CLASS_ROSTER", "MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--no-print-directory", "hub"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "CLASS_ROSTER is not set" in result.stderr and "CLASS_ROSTER=roster.txt make hub" in result.stderr
    assert "Building the shared environment" not in result.stdout


# --------------------------------------------------------------------------------------------
# Log-in
# --------------------------------------------------------------------------------------------


def test_a_name_not_on_the_roster_is_refused(hub):
    response = log_in(hub, f"{hub.prefix}x99", "a-long-enough-password")
    assert response.status_code == 403
    assert f"'{hub.prefix}x99' is not on the class roster" in html.unescape(response.text)


def test_first_log_in_sets_the_password_and_then_nobody_else_gets_in(hub):
    name = hub.names[2]
    short = log_in(hub, name, "short7!")
    assert short.status_code == 403 and "at least 8 characters" in short.text
    mine = "correct horse battery"
    assert log_in(hub, name, mine).status_code == 302  # first use: this is now the password
    wrong = log_in(hub, name, "someone else's guess")
    assert wrong.status_code == 403
    message = html.unescape(wrong.text)
    assert f"Wrong password for '{name}'" in message and "ask your instructor to reset it" in message
    assert log_in(hub, name, mine).status_code == 302


def test_students_get_403_from_the_admin_api(hub, pulled):
    alice, bob = pulled
    assert alice.request("GET", f"{hub.base}/hub/api/users", "list users", expect=(403,)).status_code == 403
    # For another user's resources JupyterHub answers 404, not 403, on purpose: a student may not
    # even learn whether that user exists. Either way, nothing happens to the other server.
    for method in ("POST", "DELETE"):
        other = alice.request(
            method, f"{hub.base}/hub/api/users/{bob.name}/server", f"{method} another's server", expect=(403, 404)
        )
        assert "No access to resources" in other.json()["message"] or other.status_code == 403, other.text
    bob_now = bob.request("GET", f"{hub.base}/hub/api/users/{bob.name}", "own status").json()
    assert bob_now["servers"][""]["ready"], "the other student's server was touched"
    # Nor can a student reach another student's server through the proxy.
    other = alice.request(
        "GET",
        f"{hub.base}/user/{bob.name}/api/contents",
        "another's server",
        expect=(403, 404, 302),
        allow_redirects=False,
    )
    assert other.status_code in (403, 404), other.status_code


def test_an_admin_resets_a_password_by_deleting_the_user_and_the_files_stay(hub, pulled):
    bob = pulled[1]
    teacher = hub_load.Student(hub, hub.admins[0], secrets.token_urlsafe(12))
    teacher.log_in()
    assert len(teacher.request("GET", f"{hub.base}/hub/api/users", "list users").json()) >= 3
    bob.stop_server()
    teacher.request("DELETE", f"{hub.base}/hub/api/users/{bob.name}", "delete user", expect=(204,))
    home = Path(pwd.getpwnam(bob.name).pw_dir)
    assert (home / "embeddings" / "notebooks" / "01_token_embeddings.ipynb").exists()
    assert log_in(hub, bob.name, bob.password + "-but-forgotten").status_code == 302  # a new first use
    bob.password += "-but-forgotten"
    bob.http, bob.token = requests.Session(), None
    bob.log_in()
    bob.start_server()
    assert "01_token_embeddings.ipynb" in outputs_text(
        bob.run_code("import os; print(os.listdir('embeddings/notebooks'))")
    )


# --------------------------------------------------------------------------------------------
# Isolation
# --------------------------------------------------------------------------------------------


def test_servers_and_kernels_run_as_the_student_not_root(hub, pulled):
    alice = pulled[0]
    uid = pwd.getpwnam(alice.name).pw_uid
    assert uid != 0
    assert outputs_text(alice.run_code("import os; print(os.getuid(), os.geteuid())")).split() == [str(uid)] * 2
    spawned = [
        p
        for p in psutil.Process(hub.hub.pid).children(recursive=True)
        if "jupyterhub-singleuser" in " ".join(p.cmdline())
    ]
    assert uid in {p.uids().real for p in spawned}
    assert all(p.uids().real != 0 and p.uids().effective != 0 for p in spawned)


def test_jupyterlab_shows_no_news_or_update_pop_ups(hub, pulled):
    alice = pulled[0]
    body = alice.request(
        "GET", alice.user_url("lab/api/settings/@jupyterlab/apputils-extension:notification"), "lab settings"
    ).json()
    # What JupyterLab will use: the student's own settings over the defaults (which overrides.json sets).
    effective = {
        key: body["settings"].get(key, spec.get("default")) for key, spec in body["schema"]["properties"].items()
    }
    assert effective["fetchNews"] == "false" and effective["checkForUpdates"] is False


def test_a_student_cannot_read_or_write_another_students_files(hub, pulled):
    alice, bob = pulled
    bob_home = pwd.getpwnam(bob.name).pw_dir
    result = attempts(
        alice,
        {
            "list": f"os.listdir({bob_home!r})",
            "read": f"open({bob_home + '/embeddings/notebooks/01_token_embeddings.ipynb'!r}).read()",
            "write": f"open({bob_home + '/planted.txt'!r}, 'w').write('x')",
            "own home": "open(os.path.expanduser('~/mine.txt'), 'w').write('x')",
        },
    )
    assert result == {
        "list": "PermissionError",
        "read": "PermissionError",
        "write": "PermissionError",
        "own home": "ok",
    }
    assert not Path(bob_home, "planted.txt").exists()


def test_a_student_cannot_read_the_instructors_files_or_the_hubs_secrets(hub, pulled):
    alice = pulled[0]
    state = hub.workdir / "state"
    secrets_and_dbs = sorted(p.name for p in state.iterdir())
    assert {"jupyterhub_cookie_secret", "jupyterhub.sqlite", "proxy_auth_token"} <= set(secrets_and_dbs)
    assert any(name.startswith("passwords.dbm") for name in secrets_and_dbs)
    checks = {f"read {name}": f"open({str(state / name)!r}, 'rb').read()" for name in secrets_and_dbs}
    checks["list state"] = f"os.listdir({str(state)!r})"
    checks["root's home"] = "os.listdir('/root')"
    checks["write to the instructor's repository"] = f"open({hub.source + '/planted.txt'!r}, 'w').write('x')"
    result = attempts(alice, checks)
    assert result == {label: "PermissionError" for label in checks}
    assert not Path(hub.source, "planted.txt").exists()


def test_students_cannot_write_to_the_shared_environment(hub, pulled):
    alice = pulled[0]
    site = next(HUB_ENV.glob("lib/python3*/site-packages"))
    result = attempts(
        alice,
        {
            "new module": f"open({str(site / 'planted.py')!r}, 'w').write('x')",
            "change torch": f"open({str(site / 'torch' / '__init__.py')!r}, 'a').write('x')",
            "new script": f"open({str(HUB_ENV / 'bin' / 'planted')!r}, 'w').write('x')",
            "tokenizer cache": f"open({str(HUB_ENV / 'share' / 'tiktoken' / 'planted')!r}, 'w').write('x')",
        },
    )
    assert result == {
        "new module": "PermissionError",
        "change torch": "PermissionError",
        "new script": "PermissionError",
        "tokenizer cache": "PermissionError",
    }
    assert outputs_text(alice.run_code("import sys; print(sys.prefix)")).strip() == str(HUB_ENV)


def test_the_tokenizer_loads_in_a_students_kernel_with_sockets_disabled(hub, pulled):
    alice = pulled[0]
    code = textwrap.dedent("""
        import socket
        def no_network(*args, **kwargs):
            raise OSError("a download was attempted")
        socket.socket.connect = no_network
        socket.create_connection = no_network
        from embeddings_course import gpt2_tokenizer  # as the notebooks get it, from the shared cache
        print(gpt2_tokenizer().encode("Hello, class"))
    """)
    # The same ids, from this process's own offline tokenizer.
    expected = str(embeddings_course.gpt2_tokenizer().encode("Hello, class"))
    assert outputs_text(alice.run_code(code)).strip() == expected


def test_a_students_kernel_reads_the_corpus_from_the_shared_environments_copy_of_data(hub, pulled):
    alice = pulled[0]
    code = "from embeddings_course import CORPUS_PATH, load_corpus\nprint(CORPUS_PATH)\nprint(len(load_corpus()))"
    path, characters = outputs_text(alice.run_code(code)).split()
    assert Path(path).is_relative_to(HUB_ENV) and Path(path).parent.name == "data"
    assert Path(path).read_bytes() == (REPO_ROOT / "data" / "lantern-street.txt").read_bytes()
    assert int(characters) == len(embeddings_course.load_corpus())


def test_hub_proxy_and_servers_listen_on_loopback_only(hub, pulled):
    pids = {hub.hub.pid, int((hub.workdir / "state" / "proxy.pid").read_text())}
    uids = {pwd.getpwnam(s.name).pw_uid for s in pulled if s.token}
    for proc in psutil.process_iter(["uids"]):
        if proc.info["uids"] and proc.info["uids"].real in uids:
            pids.add(proc.pid)
    listening = []
    for pid in pids:
        try:
            listening += [
                (pid, c.laddr.ip, c.laddr.port)
                for c in psutil.Process(pid).net_connections("inet")
                if c.status == psutil.CONN_LISTEN
            ]
        except psutil.NoSuchProcess:
            continue
    assert any(port == int(hub.base.rsplit(":", 1)[1]) for _, _, port in listening), "the public port was not found"
    assert listening and all(ip == "127.0.0.1" for _, ip, _ in listening), listening


# --------------------------------------------------------------------------------------------
# nbgitpuller: the instructor's fix arrives, the student's edit stays
# --------------------------------------------------------------------------------------------


def test_an_instructors_fix_reaches_the_student_and_the_students_edit_is_kept(hub, pulled):
    alice = pulled[0]
    copy = "embeddings"
    edit_path = f"{copy}/notebooks/02_lookup_by_index.ipynb"
    model = alice.request("GET", alice.user_url(f"api/contents/{edit_path}?content=1"), "open").json()
    model["content"]["cells"][0]["source"] = "My own notes on lookups."
    alice.request(
        "PUT",
        alice.user_url(f"api/contents/{edit_path}"),
        "save",
        expect=(200, 201),
        json={"type": "notebook", "format": "json", "content": model["content"]},
    )
    # The instructor fixes a different file and commits, in the source repository.
    fixed = Path(hub.source, "notebooks", "03_text_to_batch_embeddings.ipynb")
    nb = json.loads(fixed.read_text())
    nb["cells"][0]["source"] = ["# 03 · From text to a batch of embeddings (fixed by the instructor)"]
    fixed.write_text(json.dumps(nb, indent=1) + "\n")
    subprocess.run(
        [
            "git",
            "-C",
            hub.source,
            "-c",
            "user.name=Instructor",
            "-c",
            "user.email=instructor@example.org",
            "commit",
            "--quiet",
            "-am",
            "Fix the title of 03",
        ],
        check=True,
    )
    subprocess.run(["chmod", "-R", "a+rX", hub.source], check=True)
    alice.pull()  # the next visit to the link
    pulled_03 = alice.request(
        "GET", alice.user_url(f"api/contents/{copy}/notebooks/03_text_to_batch_embeddings.ipynb?content=1"), "read"
    ).json()
    kept_02 = alice.request("GET", alice.user_url(f"api/contents/{edit_path}?content=1"), "read").json()
    assert "fixed by the instructor" in pulled_03["content"]["cells"][0]["source"]
    assert kept_02["content"]["cells"][0]["source"] == "My own notes on lookups."


# --------------------------------------------------------------------------------------------
# The idle culler
# --------------------------------------------------------------------------------------------


def test_the_idle_culler_stops_a_server_nobody_uses_and_hub_ip_moves_the_hub(tmp_path_factory):
    run = start_hub(
        tmp_path_factory, students=1, env={"HUB_IDLE_TIMEOUT": "20", "HUB_CULL_EVERY": "5", "HUB_IP": "127.0.0.2"}
    )
    try:
        public_port = int(run.base.rsplit(":", 1)[1])
        proxy = psutil.Process(int((run.workdir / "state" / "proxy.pid").read_text()))
        public = [
            c.laddr.ip
            for c in proxy.net_connections("inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == public_port
        ]
        assert public == ["127.0.0.2"]
        student = hub_load.Student(run, run.names[0], secrets.token_urlsafe(12))
        student.log_in()
        student.start_server()
        started, stopped_after = time.monotonic(), None
        for _ in range(200):
            user = student.request("GET", f"{run.base}/hub/api/users/{student.name}", "status").json()
            if not user["servers"]:
                stopped_after = time.monotonic() - started
                break
            if time.monotonic() - started > 240:
                break
            time.sleep(2)
        assert stopped_after is not None, "the idle server was still running after 240 s"
        log = (run.workdir / "hub.log").read_text()
        assert f"Culling server {student.name}" in log
    finally:
        run.clean_up()


# --------------------------------------------------------------------------------------------
# Load: make hub-load STUDENTS=3
# --------------------------------------------------------------------------------------------


def test_make_hub_load_with_three_students_passes():
    result = subprocess.run(
        ["make", "--no-print-directory", "hub-load", "STUDENTS=3"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    report = json.loads((REPO_ROOT / "build" / "hub-load" / "report.json").read_text())
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert report["pass"] and report["students"] == 3 and not report["errors"]
    assert report["outputs_differing"] == 0 and report["outputs_compared"] > 0
    assert all(len(s["notebooks"]) == 8 for s in report["per_student"])
    for name in (s["name"] for s in report["per_student"]):  # its users are gone
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
