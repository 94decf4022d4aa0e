"""The package's own map of where each piece is taught is right, and stays right."""

import inspect
import re

import pytest

import embeddings_course
from embeddings_course import positions, text
from tools.series import chapters, code_cells, read, source

TAUGHT = {
    name: number
    for line in embeddings_course.__doc__.splitlines()
    if (found := re.match(r"\* (.*?) \.+ \w+ \.+ (\d\d)$", line))
    for name, number in [(n, found.group(2)) for n in re.findall(r"``(\w+)``", found.group(1))]
}
COURSE_CODE = {
    name
    for module in (text, positions)
    for name, obj in vars(module).items()
    if not name.startswith("_")
    and (inspect.isfunction(obj) or inspect.isclass(obj))
    and obj.__module__ == module.__name__
}


def test_the_map_lists_exactly_the_course_code():
    assert set(TAUGHT) == COURSE_CODE


@pytest.mark.parametrize("name", sorted(TAUGHT))
def test_the_notebook_named_in_the_map_shows_the_code_in_full(name):
    obj = getattr(embeddings_course, name)
    chapter = next(p for p in chapters() if p.name.startswith(TAUGHT[name]))
    shown = [
        "".join(o.get("data", {}).get("text/plain", ""))
        for cell in code_cells(read(chapter))
        if re.search(rf"getsource\({name}\)", source(cell))
        for o in cell["outputs"]
    ]
    assert shown, f"{chapter.name} does not show the source of {name}"
    assert inspect.getsource(obj).strip() in "\n".join(shown), f"{chapter.name} shows an old version of {name}"


def test_every_public_name_is_exported():
    for name in embeddings_course.__all__:
        assert hasattr(embeddings_course, name), name
