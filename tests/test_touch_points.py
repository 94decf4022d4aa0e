"""Every place that lists the chapters lists all of them: the README, the instructor guide and the
browser test's key values (the HTML index, the slides and the tools read tools.series themselves)."""

import pytest

from browser_tests.test_notebooks_in_jupyterlab import KEY_VALUES
from tools.series import INDEX, REPO_ROOT, chapters, markdown, number, read, solution_for

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
TEACHING = (REPO_ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("chapter", chapters(), ids=lambda p: p.stem)
def test_the_readme_and_the_guide_have_a_row_for_the_chapter(chapter):
    assert f"(notebooks/{chapter.name})" in README
    assert f"(../notebooks/{chapter.name})" in TEACHING


def test_the_browser_test_has_key_values_for_exactly_the_chapters():
    assert sorted(KEY_VALUES) == [number(c) for c in chapters()]
    assert all(KEY_VALUES.values()), "each chapter needs at least one value a reader must see"


def test_the_index_notebook_links_every_chapter_and_its_solutions():
    text = markdown(read(INDEX))
    for chapter in chapters():
        assert f"]({chapter.name})" in text, chapter.name
        assert f"](solutions/{solution_for(chapter).name})" in text, chapter.name
