"""The series' address is written once (pyproject.toml) and every badge, Colab cell and link agrees with it."""

import re
import subprocess

import pytest

from tools import repository_address
from tools.series import REPO_ROOT, all_notebooks, code_cells, read, source


def test_every_badge_colab_cell_and_link_agrees_with_the_one_address():
    assert repository_address.problems() == []


def test_no_other_colab_or_binder_link_names_another_address():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
    owner_and_name = repository_address.owner_and_name()
    for name in tracked:
        if not name.endswith((".md", ".ipynb", ".py", ".html", ".j2", ".txt", ".toml", ".yml", ".yaml")):
            continue
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        for found in re.findall(r"(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)/([\w.-]+/[\w.-]+)", text):
            assert found == owner_and_name, f"{name}: {found}"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_the_colab_cell_comes_first_and_prints_nothing_outside_colab(path):
    first = code_cells(read(path))[0]
    assert source(first) == repository_address.colab_cell()
    assert first["outputs"] == []


def test_the_colab_cell_takes_its_source_from_one_variable_defaulting_to_the_address():
    cell = repository_address.colab_cell()
    assert f'os.environ.get("{repository_address.SOURCE_VARIABLE}", "git+{repository_address.address()}")' in cell
    assert 'if "google.colab" in sys.modules:' in cell


def test_an_address_that_is_not_a_github_repository_is_refused_with_the_form_to_use(tmp_path, monkeypatch):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project.urls]\nRepository = "github.com/someone"\n', encoding="utf-8")
    monkeypatch.setattr(repository_address, "PYPROJECT", pyproject)
    with pytest.raises(ValueError, match="write it as https://github.com/OWNER/REPO"):
        repository_address.address()


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_no_notebook_shows_an_image_from_the_network(path):
    """JupyterLab fetches a markdown image each time it shows the cell: offline (a class hub) that is a broken
    image and a request that leaves the machine. So a notebook's Colab badge is stored in the notebook."""
    for cell in read(path)["cells"]:
        if cell["cell_type"] == "markdown":
            remote = re.findall(r"!\[[^\]]*\]\((https?://[^)\s]+)|<img[^>]*src=[\"'](https?://[^\"']+)", source(cell))
            assert remote == [], f"{path.name}: an image from the network: {remote}"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: p.name)
def test_every_image_a_notebook_shows_from_an_attachment_is_in_its_cell(path):
    """An image named `attachment:x` but not stored in its cell is a broken image (and `make html` stops)."""
    for cell in read(path)["cells"]:
        if cell["cell_type"] == "markdown":
            for name in re.findall(r"\(attachment:([^)\s]+)\)", source(cell)):
                assert name in cell.get("attachments", {}), f"{path.name}: {name} is shown but not stored"


def test_the_badge_is_the_one_draw_badge_draws(tmp_path):
    """The committed picture is made by the code beside it (same pixels), 118 x 20 like Colab's own badge."""
    import matplotlib.image

    drawn = tmp_path / "badge.png"
    repository_address.draw_badge(drawn)
    committed = matplotlib.image.imread(repository_address.BADGE_FILE)
    assert committed.shape == (20, 118, 4)
    assert (matplotlib.image.imread(drawn) == committed).all()


def test_a_notebook_whose_badge_differs_from_the_picture_is_named(tmp_path, monkeypatch):
    other = tmp_path / "open_in_colab.png"
    other.write_bytes(repository_address.BADGE_FILE.read_bytes() + b"\0")
    monkeypatch.setattr(repository_address, "BADGE_FILE", other)
    found = repository_address.problems()
    assert len(found) == len(all_notebooks())
    assert all("does not carry open_in_colab.png as its badge" in problem for problem in found)
