"""Shared by the browser tests: Debian's Chromium, driven by Playwright, and a page that records errors."""

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # running as root in containers and CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine has no network; avoid a storm of refused calls
    "--disable-component-update",
    "--disable-sync",
]


# Schemes Chromium never sends over the network. "attachment:x" is a notebook's stored image: JupyterLab puts
# that name in the <img> and then swaps in the cell's data, and Chromium has nothing that could fetch it.
LOCAL_SCHEMES = {"file", "data", "blob", "about", "attachment"}


def leaves_machine(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in LOCAL_SCHEMES:
        return False
    return parsed.hostname not in {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: `make test-browser` installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.page_errors = []
    page.on("pageerror", lambda exc: page.page_errors.append(str(exc)))
    # Anything that would leave this machine: not a file, not inline data, not a local server.
    page.outside_requests = []
    page.on("request", lambda r: page.outside_requests.append(r.url) if leaves_machine(r.url) else None)
    page.failed_requests = []
    page.on("requestfailed", lambda request: page.failed_requests.append(request.url))
    yield page
    context.close()


