"""A learner's first hour, in a real browser: `make lab` as the README says, the index, a session of
work in the learner's own copy, and `make reset`. The reference notebooks must come out untouched."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest

from browser_tests.test_notebooks_in_jupyterlab import free_port, open_and_run, stored
from tools.series import INDEX, NOTEBOOK_DIR, REPO_ROOT, chapters, reference_notebooks

FIRST = chapters()[0]
NEWS_QUESTION = "get notified about official Jupyter news"
SHOWS_PATH = """(path) => {
    const w = window.jupyterapp.shell.currentWidget;
    return Boolean(w && w.context && w.context.path === path);
}"""


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    """`make lab` on a learner copy inside the repository (git-ignored, like my-notebooks/)."""
    work = REPO_ROOT / f"my-notebooks-browser-test-{os.getpid()}"
    home = tmp_path_factory.mktemp("learner-home")
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
    )
    reference = {p: p.read_bytes() for p in reference_notebooks()}
    status_before = git_status()
    port = free_port()
    server = subprocess.Popen(
        ["make", "-C", str(REPO_ROOT), "lab", f"PORT={port}", f"WORK={work.name}",
         "LAB_ARGS=--no-browser --LabApp.expose_app_in_browser=True"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True).start()
    try:
        token, deadline = None, time.time() + 120
        while token is None and time.time() < deadline and server.poll() is None:
            printed = "".join(lines)
            found = re.search(rf"http://127\.0\.0\.1:{port}/lab/tree/index\.ipynb\?token=([0-9a-f]+)", printed)
            # The server is up once JupyterLab itself prints the address, with the same token.
            up = found and f"http://127.0.0.1:{port}/lab?token=" in printed
            token = found.group(1) if up else None
            time.sleep(0.5)
        assert token, "make lab printed no URL with a token:\n" + "".join(lines)
        yield {"base": f"http://127.0.0.1:{port}", "token": token, "work": work, "output": lines,
               "reference": reference, "status_before": status_before}  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        for folder in [work, *REPO_ROOT.glob(f"{work.name}-backup-*")]:
            shutil.rmtree(folder, ignore_errors=True)


def open_lab(page, learner, path=""):
    page.goto(f"{learner['base']}/lab{'/tree/' + path if path else ''}?token={learner['token']}")
    page.wait_for_function("() => window.jupyterapp !== undefined && window.jupyterapp.shell", timeout=60_000)


def test_make_lab_says_what_it_does_and_opens_on_the_index_with_no_popup(page, learner):
    output = "".join(learner["output"])
    assert f"Your own copy of the notebooks is in {learner['work'].name}/" in output
    assert "Stop it with Ctrl+C twice" in output
    assert (learner["work"] / INDEX.name).is_file()
    open_lab(page, learner, INDEX.name)  # the link make lab printed
    page.wait_for_function(SHOWS_PATH, arg=INDEX.name, timeout=60_000)
    page.wait_for_timeout(5000)  # the news question used to appear a few seconds after start
    assert NEWS_QUESTION not in page.inner_text("body")
    assert page.page_errors == []


def test_the_index_link_of_a_chapter_opens_the_index(page, learner):
    open_lab(page, learner, FIRST.name)
    page.wait_for_function(SHOWS_PATH, arg=FIRST.name, timeout=60_000)
    page.get_by_role("link", name="Index").first.click()
    page.wait_for_function(SHOWS_PATH, arg=INDEX.name, timeout=30_000)
    assert "Start with" in page.locator(".jp-NotebookPanel:visible .jp-RenderedMarkdown").first.inner_text()


def test_opening_and_closing_an_untouched_notebook_asks_nothing(page, learner):
    second = chapters()[1].name
    open_lab(page, learner, second)
    page.wait_for_function(
        """(p) => { const w = window.jupyterapp.shell.currentWidget;
                    return w && w.context && w.context.path === p && w.sessionContext.isReady; }""",
        arg=second, timeout=90_000,
    )  # fmt: skip
    page.wait_for_timeout(2000)  # the kernel reports its language; a metadata change would mark it dirty
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty") is False
    page.evaluate("() => window.jupyterapp.commands.execute('application:close')")
    page.wait_for_timeout(1500)
    assert not page.query_selector(".jp-Dialog"), "JupyterLab asked something on close"


def test_a_session_of_work_changes_only_the_learners_copy(page, learner):
    n_code, _, _ = stored(FIRST)
    open_and_run(page, (learner["base"], learner["token"]), FIRST.name, n_code)
    # The self-check typed the obvious way, with commas; then the figure switch flipped; then save.
    page.evaluate(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const cells = panel.content.widgets.filter(c => c.model.type === 'code');
            const check = cells.find(
                c => c.model.sharedModel.getSource().includes('check_answer("01.2", None)'));
            check.model.sharedModel.setSource(check.model.sharedModel.getSource()
                .replace('check_answer("01.2", None)', 'check_answer("01.2", 154,389,504)'));
            const first = cells.find(c => c.model.sharedModel.getSource().startsWith('%matplotlib inline'));
            first.model.sharedModel.setSource(first.model.sharedModel.getSource()
                .replace('%matplotlib inline', '# %matplotlib inline')
                .replace('# %matplotlib widget', '%matplotlib widget'));
            panel.content.activeCellIndex = panel.content.widgets.indexOf(check);
        }"""
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
    page.wait_for_function("() => /Exercise 01\\.2, .*: correct\\./.test(document.body.innerText)", timeout=60_000)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)

    saved = json.loads((learner["work"] / FIRST.name).read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in saved["cells"] if c["cell_type"] == "code"]
    set_up = next(s for s in sources if "%matplotlib" in s)
    assert set_up.startswith("# %matplotlib inline") and "\n%matplotlib widget" in set_up
    assert any('check_answer("01.2", 154,389,504)' in s for s in sources)
    now = {p: p.read_bytes() for p in reference_notebooks()}
    assert now == learner["reference"], "a reference notebook changed"
    assert git_status() == learner["status_before"], "the learner's session changed what git sees"


def test_make_reset_keeps_the_old_copy_and_makes_a_fresh_one(learner):
    edited = learner["work"] / FIRST.name
    text = edited.read_text(encoding="utf-8")
    if "154,389,504" not in text:  # this test run alone: make an edit of its own
        edited.write_text(text.replace("None)", "154,389,504)", 1), encoding="utf-8")
    work = learner["work"]
    reset = ["make", "-C", str(REPO_ROOT), "reset", f"WORK={work.name}"]
    result = subprocess.run(reset, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    backups = sorted(REPO_ROOT.glob(f"{work.name}-backup-*"))
    assert len(backups) == 1 and f"Your old copy is now {backups[0].name}/" in result.stdout
    assert "154,389,504" in (backups[0] / FIRST.name).read_text(encoding="utf-8")
    assert (work / FIRST.name).read_bytes() == (NOTEBOOK_DIR / FIRST.name).read_bytes()
    assert git_status() == learner["status_before"]
