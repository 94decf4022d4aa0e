"""The series' address, written once (pyproject.toml, [project.urls] Repository), and every place made from it:
each notebook's "Open in Colab" link and Colab set-up cell, the README's Colab badges and Binder link. The HTML
index (tools/build_html_index.py) reads it when it is built. A notebook links to Colab in text, not with Colab's
badge: the badge is an image on Colab's site, which JupyterLab would fetch each time it shows the cell (offline on
a class hub, a broken image and a request that leaves the machine); the README, read on GitHub, has the badges.

    python -m tools.repository_address check    list every place that disagrees with the address (exit 1 if any)
    python -m tools.repository_address write    rewrite those places from the address

After moving the series (a fork, a new owner): change the address in pyproject.toml, then `write`.
"""

from __future__ import annotations

import re
import sys
import tomllib

import nbformat

from tools.series import REPO_ROOT, all_notebooks, chapters, code_cells, read, solution_for, source

PYPROJECT = REPO_ROOT / "pyproject.toml"
README = REPO_ROOT / "README.md"
BRANCH = "main"  # the branch Colab and Binder open
SOURCE_VARIABLE = "EMBEDDINGS_COURSE_SOURCE"  # where the Colab cell installs the package from (tests: a local clone)

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
COLAB_NOTE = "there, run the first code cell before the others, since it installs the series' package."

# The first code cell of every notebook. It must work before the series' package is installed, so it cannot
# import it: each notebook carries this text, and `check` keeps the copies identical.
COLAB_CELL = '''# In Colab: install the series' package (its code, corpus and tokenizer files). Anywhere else: nothing.
import os
import subprocess
import sys

if "google.colab" in sys.modules:  # Colab's kernels load google.colab at start
    source = os.environ.get("{variable}", "git+{address}")
    print(f"Colab: installing the series' package from {{source}} (Colab's own torch, numpy and matplotlib are kept)")
    if subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source]).returncode != 0:
        raise RuntimeError(f"pip could not install {{source}} (its message is above): check the address and the "
                           "network, then run this cell again")'''


def address() -> str:
    """https://github.com/OWNER/REPO, from pyproject.toml."""
    with PYPROJECT.open("rb") as handle:
        url = tomllib.load(handle)["project"]["urls"]["Repository"]
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"pyproject.toml's Repository is {url!r}; write it as https://github.com/OWNER/REPO")
    return url


def owner_and_name(url: str | None = None) -> str:
    return (url or address()).removeprefix("https://github.com/")


def colab_url(notebook, url: str | None = None) -> str:
    relative = notebook.relative_to(REPO_ROOT).as_posix()
    return f"https://colab.research.google.com/github/{owner_and_name(url)}/blob/{BRANCH}/{relative}"


def colab_badge(notebook, url: str | None = None) -> str:
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(notebook, url)})"


def colab_line(notebook, url: str | None = None) -> str:
    """The line of a notebook's first cell that links to Colab (text: nothing to fetch when JupyterLab shows it)."""
    return f"[Open in Colab]({colab_url(notebook, url)}): {COLAB_NOTE}"


def colab_cell(url: str | None = None) -> str:
    return COLAB_CELL.format(variable=SOURCE_VARIABLE, address=url or address())


def binder_url(url: str | None = None) -> str:
    return f"https://mybinder.org/v2/gh/{owner_and_name(url)}/HEAD?urlpath=lab/tree/notebooks/01_token_embeddings.ipynb"


def readme_colab_cell(chapter, url: str | None = None) -> str:
    """The README table's Colab column for one chapter: a badge for it and one for its solutions."""
    return f"{colab_badge(chapter, url)} [solutions]({colab_url(solution_for(chapter), url)})"


BADGE_LINE = re.compile(r"^\[(?:!\[Open In Colab\]\([^)]*\)|Open in Colab)\]\(.*$", re.MULTILINE)  # badge or link
BINDER_LINK = re.compile(r"\(https://mybinder\.org/v2/gh/[^)\s]*\)")


def problems() -> list[str]:
    """Every place that disagrees with the address (empty: they all agree)."""
    url, found = address(), []
    for path in all_notebooks():
        nb = read(path)
        if colab_line(path, url) not in source(nb["cells"][0]).splitlines():
            found.append(f"{path.relative_to(REPO_ROOT)}: its first cell lacks the line {colab_line(path, url)!r}")
        if source(code_cells(nb)[0]) != colab_cell(url):
            found.append(f"{path.relative_to(REPO_ROOT)}: its first code cell is not the Colab set-up cell")
    readme = README.read_text(encoding="utf-8")
    for chapter in chapters():
        if readme_colab_cell(chapter, url) not in readme:
            found.append(f"README.md: no Colab badges for {chapter.name}")
    if f"({binder_url(url)})" not in readme:
        found.append(f"README.md: the Binder link is not {binder_url(url)}")
    return found


def write() -> None:
    """Rewrite every badge, Colab cell and link from the address. A notebook without a Colab cell or link gets
    them, the cell right after the title (then `make regen`: its code cells are counted anew)."""
    url = address()
    for path in all_notebooks():
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0].source
        if BADGE_LINE.search(first):
            first = BADGE_LINE.sub(colab_line(path, url).replace("\\", "\\\\"), first, count=1)
        else:  # after the title and the navigation line
            head, sep, rest = first.partition("\n\n")
            navigation, sep2, rest2 = rest.partition("\n\n")
            first = f"{head}{sep}{navigation}\n\n{colab_line(path, url)}" + (f"\n\n{rest2}" if sep2 else "")
        nb.cells[0].source = first
        code = [c for c in nb.cells if c.cell_type == "code"]
        if code and code[0].source.startswith(COLAB_CELL.splitlines()[0]):
            code[0].source = colab_cell(url)
        else:  # right after the title cell
            cell = nbformat.v4.new_code_cell(colab_cell(url))
            cell.metadata["slideshow"] = {"slide_type": "skip"}
            nb.cells.insert(1, cell)
        nbformat.write(nb, path)
    readme = README.read_text(encoding="utf-8")
    readme = BINDER_LINK.sub(f"({binder_url(url)})", readme)
    for chapter in chapters():
        readme = re.sub(
            rf"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*/{re.escape(chapter.name)}\) \[solutions\]\([^)]*\)",
            lambda _, chapter=chapter: readme_colab_cell(chapter, url),
            readme,
        )
    README.write_text(readme, encoding="utf-8")


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["check"]:
        found = problems()
        for problem in found:
            print(problem)
        print(f"{len(found)} places disagree with {address()}" if found else f"every place agrees with {address()}")
        return 1 if found else 0
    if args == ["write"]:
        write()
        print(f"==> badges, Colab cells and links written from {address()}; now: make regen, if a cell was added")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
