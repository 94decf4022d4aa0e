"""`make hub` as a student meets it, in a real (headless) Chromium: log in with a roster name, set a
password, land on notebook 01 of one's own copy, run all cells, and see the reference values."""

from __future__ import annotations

import json
import os
import pwd
import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "build" / "hub-browser"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: `make test-hub` installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def reference_lines(notebook: Path) -> list[str]:
    """The first line of every printed value stored in the notebook (stdout and text results)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    lines = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text") if output.get("name") == "stdout" else output.get("data", {}).get("text/plain")
            text = "".join(text) if isinstance(text, list) else text
            if text and not text.startswith("<Figure"):
                lines.append(next(line for line in text.splitlines() if line.strip()).strip())
    return lines


# Inline data, and a notebook's stored image ("attachment:x", which JupyterLab names before it swaps in the data):
# nothing that Chromium could fetch from elsewhere.
STAYS_HERE = ("data:", "blob:", "about:", "attachment:")


def test_a_student_logs_in_lands_on_01_runs_it_and_sees_the_reference_values(hub, browser):
    name = hub.names[3]  # on the roster, never logged in before
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    outside = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", *STAYS_HERE)) else None
        ),
    )
    try:
        page.goto(f"{hub.base}/hub/login")
        page.fill("#username_input", name)
        page.fill("#password_input", "my own class password")
        page.click("#login_submit")
        # First log-in: the password is set, the server starts, nbgitpuller pulls, JupyterLab opens 01.
        page.wait_for_url(
            re.compile(rf"/user/{name}/lab/tree/embeddings/notebooks/01_token_embeddings\.ipynb"), timeout=240_000
        )
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
        page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=120_000)
        notebook = Path(pwd.getpwnam(name).pw_dir, "embeddings", "notebooks", "01_token_embeddings.ipynb")
        expected = reference_lines(notebook)  # the student's own pulled copy
        assert expected, "the stored notebook has no printed values to look for"
        n_code = sum(c["cell_type"] == "code" for c in json.loads(notebook.read_text())["cells"])

        page.click(".lm-MenuBar-itemLabel:text-is('Edit')")
        page.click("li[data-command='editmenu:clear-all']")  # Clear Outputs of All Cells
        assert page.locator(".jp-CodeCell .jp-OutputArea-output").count() == 0
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click("li[data-command='runmenu:run-all']")  # Run All Cells
        page.wait_for_function(
            """(n) => {
                const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                    .map(p => p.textContent);
                return prompts.length === n && prompts.every(p => /^\\[\\d+\\]:$/.test(p.trim()));
            }""",
            arg=n_code,
            timeout=300_000,
            polling=500,
        )
        prompts = page.eval_on_selector_all(
            ".jp-CodeCell .jp-InputArea-prompt", "ps => ps.map(p => p.textContent.trim())"
        )
        assert prompts == [f"[{i}]:" for i in range(1, n_code + 1)]
        shown = page.eval_on_selector_all(
            ".jp-CodeCell .jp-OutputArea-output", "os => os.map(o => o.textContent).join('\\n')"
        )
        missing = [line for line in expected if line not in shown]
        assert not missing, f"reference values not on the page: {missing}"
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count() == 0
        assert page.locator(".jp-CodeCell .jp-OutputArea-output img").count() > 0, "no figure rendered"
        assert "news" not in page.locator(".Toastify").all_inner_texts().__str__().lower(), "a news pop-up is showing"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "01_after_run_all.png"))
        assert not outside, f"requests left the machine: {outside[:5]}"
    finally:
        context.close()
