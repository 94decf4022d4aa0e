"""`make hub-load STUDENTS=N`: N simulated students use a real class hub at the same time.

The tool starts its own hub (hub/launch.py, the same start as `make hub`) on free loopback ports,
with a generated roster, a throw-away state folder and a throw-away clone of this checkout's HEAD
as the nbgitpuller source. Each student, in their own thread:

1. logs in through the hub's login form (first log-in: the password is set), over HTTP;
2. starts their server through the hub's REST API;
3. pulls the series with nbgitpuller (its event-stream endpoint, as the link's page does);
4. runs every code cell of notebooks 01-08 in a kernel of their own, through the single-user
   server's REST and websocket API, as JupyterLab does, and compares each output with the output
   stored in their own pulled copy by nbval's rules;
5. stops their server.

It writes build/hub-load/report.md and report.json, exits 1 if any output differs or any request
fails, and removes the hub, the processes and the system users it created (by name and id).
Loops are bounded in count and time; the only target is the hub on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import grp
import json
import math
import os
import platform
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlencode

import psutil
import requests
import websocket
from nbformat import NotebookNode, from_dict
from nbval.plugin import coalesce_streams, find_comment_markers, find_metadata_tags

from tools.series import chapters

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [p.name for p in chapters()]
FOLDER = "embeddings"  # where nbgitpuller puts each student's copy (as the hub's link does)
# nbval 0.11's comparison: these keys are never compared; figures (PNG/JPEG) are skipped.
SKIP_COMPARE = {
    "metadata",
    "traceback",
    "prompt_number",
    "output_type",
    "name",
    "execution_count",
    "application/vnd.jupyter.widget-view+json",
    "image/png",
    "image/jpeg",
}


class Failure(Exception):
    """A request or a kernel did not do what a student needs."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ---------------------------------------------------------------------------------------------
# nbval's rules, applied to one cell
# ---------------------------------------------------------------------------------------------


def cell_options(cell) -> dict:
    """nbval's per-cell options from tags and comment markers: skip, check, check_exception."""
    options = {"skip": False, "check": True, "check_exception": False}
    for marker, value in find_comment_markers(cell.source):
        options[marker] = value
    for marker, value in find_metadata_tags(cell.metadata):
        options[marker] = value
    return options


def flatten(outputs) -> dict[str, list]:
    """Outputs as nbval compares them: streams keyed by stream name, MIME data flattened."""
    flat: dict[str, list] = {}
    for output in outputs:
        if output.output_type == "stream":
            flat.setdefault(output.name, []).append(output.text)
            continue
        for key, value in output.items():
            if key in SKIP_COMPARE:
                continue
            if key == "data":
                for mime, data in value.items():
                    if mime not in SKIP_COMPARE:
                        flat.setdefault(mime, []).append(data)
            else:
                flat.setdefault(key, []).append(value)
    return flat


def compare(test_outputs, ref_outputs) -> str | None:
    """None if nbval would accept `test_outputs` for a cell that stored `ref_outputs`; else why not."""
    test, ref = flatten(coalesce_streams(test_outputs)), flatten(coalesce_streams(ref_outputs))
    if set(ref) - set(test):
        return f"missing output fields: {sorted(set(ref) - set(test))}"
    if set(test) - set(ref):
        return f"unexpected output fields: {sorted(set(test) - set(ref))}"
    for key in ref:
        if len(ref[key]) != len(test[key]):
            return f"{key}: {len(test[key])} outputs, reference has {len(ref[key])}"
        for r, t in zip(ref[key], test[key]):
            if r != t:
                return f"{key} differs:\n--- reference\n{str(r)[:2000]}\n--- this run\n{str(t)[:2000]}"
    return None


# ---------------------------------------------------------------------------------------------
# One student
# ---------------------------------------------------------------------------------------------


class Student:
    def __init__(self, run, name: str, password: str):
        self.run, self.name, self.password = run, name, password
        self.base = run.base
        self.http = requests.Session()
        self.token = None
        self.result = {"name": name, "pass": False, "notebooks": {}, "errors": []}

    def error(self, step: str, message: str) -> None:
        entry = {"student": self.name, "step": step, "message": message}
        self.result["errors"].append(entry)
        self.run.record_error(entry)

    def request(self, method: str, url: str, step: str, expect=(200,), **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 120)
        if self.token:
            kwargs.setdefault("headers", {})["Authorization"] = f"token {self.token}"
        try:
            response = self.http.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise Failure(f"{step}: {method} {url}: {exc}") from exc
        if response.status_code not in expect:
            raise Failure(f"{step}: {method} {url} answered {response.status_code}: {response.text[:500]}")
        return response

    def log_in(self) -> None:
        login = f"{self.base}/hub/login"
        self.request("GET", login, "log-in page")
        xsrf = self.http.cookies.get("_xsrf")
        response = self.request(
            "POST",
            login,
            "log-in",
            expect=(302,),
            allow_redirects=False,
            data={"username": self.name, "password": self.password, "_xsrf": xsrf},
        )
        if "jupyterhub-session-id" not in self.http.cookies and not any(
            c.name.startswith("jupyterhub-hub-login") for c in self.http.cookies
        ):
            raise Failure(f"log-in: no hub cookie after {response.status_code}")
        # A token of the student's own, as JupyterLab's hub extension would use for API calls.
        response = self.request(
            "POST",
            f"{self.base}/hub/api/users/{self.name}/tokens",
            "token",
            expect=(200, 201),
            headers={"X-XSRFToken": self.http.cookies.get("_xsrf", xsrf)},
            json={"note": "hub-load", "expires_in": 7200},
        )
        self.token = response.json()["token"]

    def start_server(self) -> None:
        self.request("POST", f"{self.base}/hub/api/users/{self.name}/server", "start server", expect=(201, 202))
        deadline = time.monotonic() + self.run.args.spawn_timeout
        for _ in range(10_000):
            user = self.request("GET", f"{self.base}/hub/api/users/{self.name}", "server status").json()
            server = user.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if time.monotonic() > deadline:
                raise Failure(f"start server: not ready after {self.run.args.spawn_timeout} s")
            time.sleep(0.5)
        raise Failure("start server: too many polls")

    def pull(self) -> None:
        query = urlencode({"repo": self.run.source, "branch": self.run.branch, "targetpath": FOLDER})
        url = f"{self.base}/user/{self.name}/git-pull/api?{query}"
        response = self.request("GET", url, "nbgitpuller", stream=True)
        last = None
        for line in response.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                last = json.loads(line[5:])
                if last.get("phase") in ("finished", "error"):
                    break
        response.close()
        if not last or last.get("phase") != "finished":
            raise Failure(f"nbgitpuller: {last}")

    def user_url(self, path: str) -> str:
        return f"{self.base}/user/{self.name}/{path}"

    def run_notebook(self, notebook: str) -> dict:
        path = f"{FOLDER}/notebooks/{notebook}"
        started = time.monotonic()
        model = self.request("GET", self.user_url(f"api/contents/{quote(path)}?content=1"), f"{notebook}: open").json()
        nb = from_dict(model["content"])
        session = self.request(
            "POST",
            self.user_url("api/sessions"),
            f"{notebook}: kernel",
            expect=(201,),
            json={"path": path, "type": "notebook", "name": notebook, "kernel": {"name": "python3"}},
        ).json()
        kernel_id, session_id = session["kernel"]["id"], uuid.uuid4().hex
        ws_url = self.user_url(f"api/kernels/{kernel_id}/channels?session_id={session_id}").replace("http://", "ws://")
        cells, compared, diffs, executed = [], 0, [], 0
        ws = websocket.create_connection(
            ws_url, header=[f"Authorization: token {self.token}"], timeout=self.run.args.cell_timeout
        )
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                options = cell_options(cell)
                if options["skip"]:
                    continue
                outputs, cell_seconds = self.execute(ws, session_id, "".join(cell.source))
                executed += 1
                if self.run.first_cell_at.get(self.name) is None:
                    self.run.first_cell_at[self.name] = time.monotonic()
                errors = [o for o in outputs if o.output_type == "error"]
                problem = None
                if errors and not options["check_exception"]:
                    problem = f"raised {errors[0].ename}: {errors[0].evalue}"
                elif options["check"] and cell.get("execution_count") is not None:
                    compared += 1
                    problem = compare(outputs, [from_dict(o) for o in cell.outputs])
                cells.append({"index": index, "seconds": round(cell_seconds, 3), "compared": options["check"]})
                if problem:
                    diffs.append({"cell": index, "problem": problem})
        except Exception:
            ws.close()
            try:  # the first error is the one to report; shutting down is only tidying up
                self.request(
                    "DELETE",
                    self.user_url(f"api/sessions/{session['id']}"),
                    f"{notebook}: shut down",
                    expect=(204, 404),
                )
            except Failure:
                pass
            raise
        ws.close()
        self.request("DELETE", self.user_url(f"api/sessions/{session['id']}"), f"{notebook}: shut down", expect=(204,))
        return {
            "pass": not diffs,
            "seconds": round(time.monotonic() - started, 2),
            "cells_run": executed,
            "outputs_compared": compared,
            "differing": diffs,
        }

    def execute(self, ws, session_id: str, code: str) -> tuple[list, float]:
        """Send one execute_request; gather its iopub outputs the way nbval does, until idle."""
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "session": session_id,
                        "username": self.name,
                        "msg_type": "execute_request",
                        "version": "5.3",
                        "date": dt.datetime.now(dt.UTC).isoformat(),
                    },
                    "parent_header": {},
                    "metadata": {},
                    "buffers": [],
                    "channel": "shell",
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        started, outputs = time.monotonic(), []
        deadline = started + self.run.args.cell_timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id or msg.get("channel") != "iopub":
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return outputs, time.monotonic() - started
            if kind in ("display_data", "execute_result"):
                outputs.append(NotebookNode(output_type=kind, data=content["data"], metadata=content["metadata"]))
            elif kind == "stream":
                outputs.append(NotebookNode(output_type="stream", name=content["name"], text=content["text"]))
            elif kind == "error":
                outputs.append(
                    NotebookNode(
                        output_type="error",
                        ename=content["ename"],
                        evalue=content["evalue"],
                        traceback=content["traceback"],
                    )
                )
        raise Failure(f"cell did not finish within {self.run.args.cell_timeout} s")

    def run_code(self, code: str) -> list:
        """Run `code` in a new kernel of this student's server (tests use it); its outputs."""
        kernel = self.request(
            "POST", self.user_url("api/kernels"), "kernel", expect=(201,), json={"name": "python3"}
        ).json()
        session_id = uuid.uuid4().hex
        ws_url = self.user_url(f"api/kernels/{kernel['id']}/channels?session_id={session_id}").replace(
            "http://", "ws://"
        )
        ws = websocket.create_connection(
            ws_url, header=[f"Authorization: token {self.token}"], timeout=self.run.args.cell_timeout
        )
        try:
            return self.execute(ws, session_id, code)[0]
        finally:
            ws.close()
            self.request("DELETE", self.user_url(f"api/kernels/{kernel['id']}"), "kernel", expect=(204,))

    def stop_server(self) -> None:
        self.request("DELETE", f"{self.base}/hub/api/users/{self.name}/server", "stop server", expect=(202, 204))
        deadline = time.monotonic() + 120
        for _ in range(1000):
            user = self.request("GET", f"{self.base}/hub/api/users/{self.name}", "server status").json()
            if not user.get("servers"):
                return
            if time.monotonic() > deadline:
                raise Failure("stop server: still running after 120 s")
            time.sleep(0.5)

    def __call__(self) -> dict:
        started = time.monotonic()
        step = "log-in"
        try:
            self.log_in()
            step = "start server"
            self.start_server()
            step = "nbgitpuller"
            self.pull()
            for notebook in NOTEBOOKS:
                if time.monotonic() > self.run.deadline:
                    raise Failure(f"run deadline ({self.run.args.deadline} s) passed before {notebook}")
                step = notebook
                result = self.run_notebook(notebook)
                self.result["notebooks"][notebook] = result
                for diff in result["differing"]:
                    self.error(notebook, f"cell {diff['cell']}: {diff['problem']}")
            step = "stop server"
            self.stop_server()
        except Exception as exc:  # every failure is recorded, none stops the other students
            message = str(exc) if isinstance(exc, Failure) else "".join(traceback.format_exception_only(exc)).strip()
            self.error(step, message)
        self.result["wall_s"] = round(time.monotonic() - started, 2)
        first = self.run.first_cell_at.get(self.name)
        self.result["login_to_first_cell_s"] = round(first - started, 2) if first else None
        self.result["pass"] = not self.result["errors"] and len(self.result["notebooks"]) == len(NOTEBOOKS)
        return self.result


# ---------------------------------------------------------------------------------------------
# The run: hub, memory sampling, clean-up, report
# ---------------------------------------------------------------------------------------------


class Run:
    def __init__(self, args, tag: str = "hl", admins: int = 0, env: dict | None = None):
        self.args, self.env = args, env or {}
        self.id = secrets.token_hex(3)
        self.prefix = f"{tag}{self.id}"  # every user and the group of this run start with it
        self.group = f"{self.prefix}-class"
        self.names = [f"{self.prefix}s{i:02d}" for i in range(1, args.students + 1)]
        self.admins = [f"{self.prefix}t{i:02d}" for i in range(1, admins + 1)]
        self.errors, self.lock = [], threading.Lock()
        self.first_cell_at: dict[str, float] = {}
        self.peak = {"machine_used_mib": 0, "students_total_mib": 0, "per_student_mib": {n: 0 for n in self.names}}
        self.sampling = threading.Event()
        self.hub = None
        self.workdir = Path(tempfile.mkdtemp(prefix=f"hub-load-{self.id}-"))
        self.workdir.chmod(0o755)  # students must read the nbgitpuller source inside it

    def record_error(self, entry: dict) -> None:
        with self.lock:
            self.errors.append(entry)

    def start_hub(self) -> None:
        self.source = str(self.workdir / "series")
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), self.source], check=True)
        subprocess.run(["chmod", "-R", "a+rX", self.source], check=True)
        self.branch = subprocess.run(
            ["git", "-C", self.source, "symbolic-ref", "--short", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        self.commit = subprocess.run(
            ["git", "-C", self.source, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        roster = self.workdir / "roster.txt"
        roster.write_text("\n".join(self.names) + "\n")
        port = free_port()
        self.base = f"http://{self.env.get('HUB_IP', '127.0.0.1')}:{port}"
        env = dict(
            os.environ,
            CLASS_ROSTER=str(roster),
            HUB_PORT=str(port),
            ADMIN_USERS=",".join(self.admins),
            HUB_API_PORT=str(free_port()),
            HUB_PROXY_API_PORT=str(free_port()),
            HUB_STATE=str(self.workdir / "state"),
            HUB_REPO=self.source,
            HUB_BRANCH=self.branch,
            HUB_STUDENT_GROUP=self.group,
            HUB_IDLE_TIMEOUT="3600",
        )
        env.pop("HUB_IP", None)  # the default: loopback
        env.update(self.env)
        self.hub_log = open(self.workdir / "hub.log", "w")
        self.hub = subprocess.Popen(
            [str(Path(self.args.hub_env) / "bin/python"), str(REPO_ROOT / "hub/launch.py")],
            env=env,
            stdout=self.hub_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.hub.poll() is not None:
                raise Failure(
                    f"the hub exited with {self.hub.returncode}:\n{(self.workdir / 'hub.log').read_text()[-3000:]}"
                )
            try:
                if requests.get(f"{self.base}/hub/api", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise Failure("the hub did not answer within 90 s")

    def sample_memory(self) -> None:
        uids = {}
        for _ in range(int(self.args.deadline / 0.5) + 1000):
            if self.sampling.wait(0.5):
                return
            vm = psutil.virtual_memory()
            used = (vm.total - vm.available) / 2**20
            for name in self.names:
                if name not in uids:
                    try:
                        uids[name] = pwd.getpwnam(name).pw_uid
                    except KeyError:
                        continue
            by_uid = {uid: 0 for uid in uids.values()}
            for proc in psutil.process_iter(["uids", "memory_info"]):
                try:
                    uid = proc.info["uids"].real
                    if uid in by_uid:
                        by_uid[uid] += proc.info["memory_info"].rss
                except (TypeError, AttributeError, psutil.Error):
                    continue
            with self.lock:
                self.peak["machine_used_mib"] = max(self.peak["machine_used_mib"], round(used))
                self.peak["students_total_mib"] = max(
                    self.peak["students_total_mib"], round(sum(by_uid.values()) / 2**20)
                )
                for name, uid in uids.items():
                    self.peak["per_student_mib"][name] = max(
                        self.peak["per_student_mib"][name], round(by_uid[uid] / 2**20)
                    )

    def clean_up(self) -> None:
        """Stop the hub (it stops the proxy and the servers), then remove what is left, by id and name."""
        if self.hub and self.hub.poll() is None:
            self.hub.send_signal(signal.SIGTERM)
            try:
                self.hub.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.hub.pid, signal.SIGKILL)
                self.hub.wait(timeout=30)
        if self.hub:
            shutil.copy(self.workdir / "hub.log", self.args.out / "hub.log")
        proxy_pid = self.workdir / "state/proxy.pid"
        if proxy_pid.exists():
            try:
                proxy = psutil.Process(int(proxy_pid.read_text()))
                if "configurable-http-proxy" in " ".join(proxy.cmdline()):
                    proxy.kill()
            except (ValueError, psutil.Error):
                pass
        for name in self.names + self.admins:
            try:
                uid = pwd.getpwnam(name).pw_uid
            except KeyError:
                continue
            for proc in psutil.process_iter(["uids"]):
                try:
                    if proc.info["uids"].real == uid:
                        proc.kill()
                except (TypeError, AttributeError, psutil.Error):
                    pass
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        try:
            grp.getgrnam(self.group)
            subprocess.run(["groupdel", self.group], capture_output=True)
        except KeyError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def write_report(run: Run, results: list[dict], wall: float, baseline_mib: int) -> dict:
    per_notebook = {}
    for notebook in NOTEBOOKS:
        times = [r["notebooks"][notebook]["seconds"] for r in results if notebook in r["notebooks"]]
        per_notebook[notebook] = {
            "runs": len(times),
            "p50_s": percentile(times, 50),
            "p95_s": percentile(times, 95),
            "max_s": max(times) if times else None,
            "failed": sum(not r["notebooks"][notebook]["pass"] for r in results if notebook in r["notebooks"]),
        }
    for r in results:
        r["peak_rss_mib"] = run.peak["per_student_mib"].get(r["name"])
    firsts = [r["login_to_first_cell_s"] for r in results if r["login_to_first_cell_s"] is not None]
    differing = sum(len(nb["differing"]) for r in results for nb in r["notebooks"].values())
    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": f"make hub-load STUDENTS={run.args.students}",
        "machine": machine(),
        "commit": run.commit,
        "students": run.args.students,
        "pass": not run.errors and all(r["pass"] for r in results) and len(results) == run.args.students,
        "class_wall_s": round(wall, 1),
        "outputs_compared": sum(nb["outputs_compared"] for r in results for nb in r["notebooks"].values()),
        "outputs_differing": differing,
        "login_to_first_cell_s": {
            "p50": percentile(firsts, 50),
            "p95": percentile(firsts, 95),
            "max": max(firsts, default=None),
        },
        "memory": {
            "machine_used_before_mib": baseline_mib,
            "machine_used_peak_mib": run.peak["machine_used_mib"],
            "students_total_peak_mib": run.peak["students_total_mib"],
            "per_student_peak_mib_max": max(run.peak["per_student_mib"].values(), default=0),
        },
        "per_notebook": per_notebook,
        "per_student": results,
        "errors": run.errors,
    }
    out = run.args.out
    (out / "report.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# Class hub load: {run.args.students} students — {'PASS' if report['pass'] else 'FAIL'}",
        "",
        f"{report['date']}, `{report['command']}`, commit {run.commit[:10]}, on {report['machine']['cpu']}, "
        f"{report['machine']['cores']} cores, {report['machine']['memory_gib']} GiB.",
        "",
        f"- whole class, log-in to last server stopped: {report['class_wall_s']} s",
        f"- outputs compared (nbval's rules): {report['outputs_compared']}, differing: {differing}",
        f"- log-in to first executed cell: p50 {report['login_to_first_cell_s']['p50']} s, "
        f"p95 {report['login_to_first_cell_s']['p95']} s",
        f"- memory used on the machine: {baseline_mib} MiB before, "
        f"{report['memory']['machine_used_peak_mib']} MiB at peak; "
        f"all students' processes at peak {report['memory']['students_total_peak_mib']} MiB; "
        f"largest one student {report['memory']['per_student_peak_mib_max']} MiB",
        f"- errors: {len(run.errors)}",
        "",
        "| notebook | runs | p50 s | p95 s | max s | failed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {nb} | {v['runs']} | {v['p50_s']} | {v['p95_s']} | {v['max_s']} | {v['failed']} |"
        for nb, v in per_notebook.items()
    ]
    lines += [
        "",
        "| student | pass | wall s | log-in → first cell s | peak RSS MiB | "
        + " | ".join(nb[:2] for nb in NOTEBOOKS)
        + " |",
        "|---|---|---:|---:|---:|" + "---:|" * len(NOTEBOOKS),
    ]
    for r in results:
        times = [
            str(r["notebooks"][nb]["seconds"]) + ("" if r["notebooks"][nb]["pass"] else " ✗")
            if nb in r["notebooks"]
            else "–"
            for nb in NOTEBOOKS
        ]
        lines.append(
            f"| {r['name']} | {'yes' if r['pass'] else 'NO'} | {r['wall_s']} | {r['login_to_first_cell_s']} | "
            f"{r['peak_rss_mib']} | " + " | ".join(times) + " |"
        )
    if run.errors:
        lines += ["", "## Errors", ""] + [f"- {e['student']} · {e['step']}: {e['message'][:3000]}" for e in run.errors]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--hub-env", default=os.environ.get("HUB_ENV", "/opt/embeddings-class"))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "hub-load")
    parser.add_argument("--deadline", type=float, default=5400, help="seconds for the whole run (default 5400)")
    parser.add_argument("--cell-timeout", type=float, default=2000, help="seconds per cell (default 2000, nbval's)")
    parser.add_argument("--spawn-timeout", type=float, default=300)
    args = parser.parse_args(argv)
    if not 1 <= args.students <= 200:
        parser.error("STUDENTS must be between 1 and 200")
    if os.geteuid() != 0:
        parser.error("needs root: it creates a system user per simulated student (and removes them)")
    if not (Path(args.hub_env) / "bin/jupyterhub").exists():
        parser.error(f"{args.hub_env} has no JupyterHub: run `make hub-setup` first")
    args.out.mkdir(parents=True, exist_ok=True)
    run = Run(args)
    run.deadline = time.monotonic() + args.deadline
    baseline = round((psutil.virtual_memory().total - psutil.virtual_memory().available) / 2**20)
    sampler = threading.Thread(target=run.sample_memory, daemon=True)
    results, started = [], time.monotonic()
    try:
        run.start_hub()
        print(
            f"==> hub on {run.base}; {args.students} students ({run.prefix}s01...) run {len(NOTEBOOKS)} notebooks",
            flush=True,
        )
        sampler.start()
        started = time.monotonic()
        students = [Student(run, name, secrets.token_urlsafe(12)) for name in run.names]
        with ThreadPoolExecutor(max_workers=args.students) as pool:
            results = list(pool.map(lambda s: s(), students))
    except Exception as exc:
        run.record_error({"student": "-", "step": "hub", "message": str(exc)})
    finally:
        wall = time.monotonic() - started
        run.sampling.set()
        run.clean_up()
    report = write_report(run, results, wall, baseline)
    print((args.out / "report.md").read_text())
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
