"""The series' address, written once (pyproject.toml, [project.urls] Repository), and every place made from it:
each notebook's "Open in Colab" badge and Colab set-up cell, the README's Colab badges and Binder link. The HTML
index (tools/build_html_index.py) reads it when it is built. A notebook's badge is an image stored in the notebook
(a cell attachment, tools/open_in_colab.png), not Colab's badge from Colab's site: JupyterLab would fetch that each
time it shows the cell (offline on a class hub, a broken image and a request that leaves the machine). The README,
read on GitHub, has Colab's own badges.

    python -m tools.repository_address check    list every place that disagrees with the address (exit 1 if any)
    python -m tools.repository_address write    rewrite those places from the address
    python -m tools.repository_address badge    draw tools/open_in_colab.png again (then `write`)

After moving the series (a fork, a new owner): change the address in pyproject.toml, then `write`.
"""

from __future__ import annotations

import base64
import re
import sys
import tomllib
from pathlib import Path

import nbformat

from tools.series import REPO_ROOT, all_notebooks, chapters, code_cells, read, solution_for, source

PYPROJECT = REPO_ROOT / "pyproject.toml"
README = REPO_ROOT / "README.md"
BRANCH = "main"  # the branch Colab and Binder open
SOURCE_VARIABLE = "EMBEDDINGS_COURSE_SOURCE"  # where the Colab cell installs the package from (tests: a local clone)

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"  # the README's, on GitHub
BADGE_FILE = Path(__file__).with_name("open_in_colab.png")  # the notebooks' badge, drawn by draw_badge()
BADGE_ATTACHMENT = "open-in-colab.png"  # its name inside each notebook's first cell
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
    """The line of a notebook's first cell that links to Colab: the badge the cell carries, then what to do there."""
    return f"[![Open in Colab](attachment:{BADGE_ATTACHMENT})]({colab_url(notebook, url)}): {COLAB_NOTE}"


def badge_attachments() -> dict[str, dict[str, str]]:
    """The first cell's attachments: the badge, so that nothing is fetched to show it (JupyterLab, Colab, HTML)."""
    return {BADGE_ATTACHMENT: {"image/png": base64.b64encode(BADGE_FILE.read_bytes()).decode("ascii")}}


def draw_badge(path: Path = BADGE_FILE) -> None:
    """Draw the notebooks' badge: 118 x 20 pixels, "Open in" in white on grey, "Colab" in near-black on Colab's
    orange (WCAG contrast 7.5:1 and 8.3:1: readable without telling colours apart)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Rectangle

    width, height, split, orange = 118, 20, 52, "#F9AB00"
    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    rounded = "round,pad=0,rounding_size=3"
    ax.add_patch(FancyBboxPatch((0, 0), width, height, boxstyle=rounded, facecolor=orange, edgecolor="none"))
    ax.add_patch(FancyBboxPatch((0, 0), split + 4, height, boxstyle=rounded, facecolor="#555555", edgecolor="none"))
    ax.add_patch(Rectangle((split, 0), 4, height, facecolor=orange, edgecolor="none"))  # square the grey's right end
    text = dict(fontsize=11 * 72 / 100, family="DejaVu Sans", va="center_baseline", ha="center")  # 11 px
    ax.text(split / 2, height / 2, "Open in", color="white", **text)
    ax.text((split + width) / 2, height / 2, "Colab", color="#202124", weight="bold", **text)
    fig.savefig(path, transparent=True, metadata={"Software": None})
    plt.close(fig)


def colab_cell(url: str | None = None) -> str:
    return COLAB_CELL.format(variable=SOURCE_VARIABLE, address=url or address())


def binder_url(url: str | None = None) -> str:
    return f"https://mybinder.org/v2/gh/{owner_and_name(url)}/HEAD?urlpath=lab/tree/notebooks/01_token_embeddings.ipynb"


def readme_colab_cell(chapter, url: str | None = None) -> str:
    """The README table's Colab column for one chapter: a badge for it and one for its solutions."""
    return f"{colab_badge(chapter, url)} [solutions]({colab_url(solution_for(chapter), url)})"


BADGE_LINE = re.compile(r"^\[(?:!\[Open [Ii]n Colab\]\([^)]*\)|Open in Colab)\]\(.*$", re.MULTILINE)  # badge or link
BINDER_LINK = re.compile(r"\(https://mybinder\.org/v2/gh/[^)\s]*\)")


def problems() -> list[str]:
    """Every place that disagrees with the address (empty: they all agree)."""
    url, found = address(), []
    for path in all_notebooks():
        nb = read(path)
        if colab_line(path, url) not in source(nb["cells"][0]).splitlines():
            found.append(f"{path.relative_to(REPO_ROOT)}: its first cell lacks the line {colab_line(path, url)!r}")
        if nb["cells"][0].get("attachments") != badge_attachments():
            found.append(f"{path.relative_to(REPO_ROOT)}: its first cell does not carry {BADGE_FILE.name} as its badge")
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
        nb.cells[0].attachments = badge_attachments()
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
    if args == ["badge"]:
        draw_badge()
        print(f"==> {BADGE_FILE} drawn; now: python -m tools.repository_address write")
        return 0
    if args == ["write"]:
        write()
        print(f"==> badges, Colab cells and links written from {address()}; now: make regen, if a cell was added")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
