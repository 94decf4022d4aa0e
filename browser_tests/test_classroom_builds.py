"""The classroom builds, opened from disk in headless Chromium: they must work with no network.

`make test-browser` builds them first (`make slides`, `make html`).
"""

import re
from pathlib import Path

import pytest

from tools.series import REPO_ROOT, chapters, solution_for

CHAPTERS = chapters()
SLIDES = REPO_ROOT / "build" / "slides"
HTML = REPO_ROOT / "build" / "html"
SCREENSHOTS = REPO_ROOT / "build" / "browser"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_deck_opens_from_disk_and_moves_to_the_next_slide(page, chapter):
    deck = SLIDES / f"{chapter.stem}.slides.html"
    assert deck.is_file(), f"{deck} missing: run make slides"
    page.goto(deck.as_uri())
    # reveal.js is loaded through require.js, so it is not a global: read its state from the page.
    page.wait_for_selector(".reveal.ready", timeout=30_000)
    current = (
        "() => Array.from(document.querySelectorAll('.reveal .slides > section'))"
        ".findIndex(s => s.classList.contains('present'))"
    )
    n_slides = page.evaluate("() => document.querySelectorAll('.reveal .slides > section').length")
    assert page.evaluate(current) == 0 and n_slides >= 8, n_slides
    assert page.locator(".reveal .slides > section.present").inner_text().strip().startswith(chapter.name[:2])
    # The right arrow shows the slide's fragments (code, then output) one by one, then moves on.
    for _ in range(30):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(50)
        if page.evaluate(current) == 1:
            break
    assert page.evaluate(current) == 1, "the arrow key never reached the second slide"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"slides_{chapter.stem}.png"))
    assert page.page_errors == []
    assert page.outside_requests == [], "the deck asked the network for something"
    assert page.failed_requests == [], "a local asset is missing"


def local_links(page_path: Path):
    text = page_path.read_text(encoding="utf-8")
    for href in re.findall(r'href="([^"#]+)(?:#[^"]*)?"', text):
        if "://" not in href and not href.startswith(("mailto:", "data:")):
            yield href


def test_html_index_links_every_chapter_and_every_link_resolves():
    index = HTML / "index.html"
    assert index.is_file(), "build/html/index.html missing: run make html"
    linked = set(local_links(index))
    assert {f"{c.stem}.html" for c in CHAPTERS} <= linked
    assert {f"solutions/{c.stem}_solutions.html" for c in CHAPTERS} <= linked
    for page_path in [index, *HTML.glob("*.html"), *(HTML / "solutions").glob("*.html")]:
        for href in local_links(page_path):
            assert (page_path.parent / href).resolve().is_file(), f"{page_path.name}: broken link {href}"


PAGES = [HTML / f"{c.stem}.html" for c in CHAPTERS]
PAGES += [HTML / "solutions" / f"{solution_for(c).stem}.html" for c in CHAPTERS]


@pytest.mark.parametrize("rendered", PAGES, ids=lambda p: p.stem)
def test_html_page_renders_offline_with_its_figures(page, rendered):
    page.goto(rendered.as_uri())
    page.wait_for_load_state("load")
    assert page.locator("h1").first.inner_text().startswith(rendered.name[:2])
    images = page.evaluate("() => Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert all(images)
    if rendered.parent == HTML:
        assert images, "every chapter has a figure"
    badge = page.locator('img[alt="Open in Colab"]')
    assert badge.count() == 1 and badge.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [118, 20]
    assert badge.evaluate("i => i.closest('a').href").startswith("https://colab.research.google.com/github/")
    assert page.page_errors == []
    assert page.outside_requests == []
    assert page.failed_requests == []
