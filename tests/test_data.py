"""data/: its README states the corpus' size and checksum (each number recomputed from the file), and every
way of installing the series reads the corpus from it."""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings_course import CORPUS_PATH, create_dataloader_v1
from tools.series import REPO_ROOT

DATA_DIR = CORPUS_PATH.parent
README = (DATA_DIR / "README.md").read_text(encoding="utf-8")


def stated(measure: str) -> int:
    match = re.search(rf"^\| {re.escape(measure)}[^|]*\| ([\d,]+)", README, flags=re.MULTILINE)
    assert match, f"the corpus README has no row for {measure!r}"
    return int(match.group(1).replace(",", ""))


def test_characters_bytes_and_words(corpus):
    assert stated("characters") == len(corpus)
    assert stated("bytes") == len(CORPUS_PATH.read_bytes())
    assert stated("words") == len(corpus.split())


def test_token_count_and_minimum_length(tokenizer, corpus):
    n_tokens = len(tokenizer.encode(corpus, allowed_special={"<|endoftext|>"}))
    assert stated("GPT-2 tokens") == n_tokens
    assert n_tokens >= 5000


def test_window_and_batch_counts(corpus):
    for (max_length, stride, batch_size), measure in [
        ((4, 4, 8), "windows for `max_length=4, stride=4`"),
        ((256, 128, 4), "windows for `max_length=256, stride=128`"),
    ]:
        loader = create_dataloader_v1(corpus, batch_size, max_length, stride, shuffle=False)
        row = re.search(rf"^\| {re.escape(measure)} \| ([\d,]+) \((\d+) batches of (\d+)\)", README, re.MULTILINE)
        assert row, measure
        assert int(row.group(1).replace(",", "")) == len(loader.dataset)
        assert int(row.group(2)) == len(loader)
        assert int(row.group(3)) == batch_size


def test_sha256_in_readme_and_sha256sums():
    actual = hashlib.sha256(CORPUS_PATH.read_bytes()).hexdigest()
    assert f"`{actual}`" in README
    sums = (DATA_DIR / "SHA256SUMS").read_text()
    assert sums.split() == [actual, CORPUS_PATH.name]


def test_document_count_and_separator(corpus):
    assert corpus.count("<|endoftext|>") == 9
    assert corpus.rstrip("\n").endswith("<|endoftext|>")
    assert "\r" not in corpus


def test_sha256sums_check_passes_as_make_data_runs_it():
    result = subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=DATA_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- data/ is the one home of the corpus, and every way of installing the series reads it --------------

REPO_DATA = REPO_ROOT / "data"
DATA_FILES = ("lantern-street.txt", "README.md", "SHA256SUMS", "LICENSE")


def test_the_corpus_has_one_home_at_the_top_of_the_repository():
    assert sorted(p.name for p in REPO_DATA.iterdir()) == sorted(DATA_FILES)
    copies = [p for p in (REPO_ROOT / "src").rglob("lantern-street.txt")]
    assert copies == [], "a second copy of the corpus"


def test_the_editable_install_of_make_setup_and_of_the_path_without_make_reads_data():
    assert CORPUS_PATH == REPO_DATA / "lantern-street.txt"


def installed_copy(tmp_path, source: str) -> Path:
    """pip install --no-deps of the package from `source` into a folder of its own; the folder."""
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), source]
    result = subprocess.run(pip, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return target


def corpus_seen_by(site: Path) -> tuple[Path, int]:
    """CORPUS_PATH and the corpus' length, as a Python whose only copy of the package is the one in `site`
    (-S: no site-packages, so this venv's editable install is not on the path; torch and tiktoken are)."""
    code = (
        "import sys; sys.path[:0] = sys.argv[1:]\n"
        "import embeddings_course as e; print(e.CORPUS_PATH); print(len(e.load_corpus()))"
    )
    site_packages = next(p for p in map(Path, sys.path) if p.name == "site-packages")
    result = subprocess.run(
        [sys.executable, "-S", "-c", code, str(site), str(site_packages)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    path, length = result.stdout.split()
    return Path(path), int(length)


def assert_carries_data(site: Path, corpus: str) -> None:
    for name in DATA_FILES:
        assert (site / "embeddings_course" / "data" / name).read_bytes() == (REPO_DATA / name).read_bytes(), name
    path, length = corpus_seen_by(site)
    assert path == site / "embeddings_course" / "data" / "lantern-street.txt"
    assert length == len(corpus)


@pytest.mark.integration
def test_an_installed_copy_as_the_class_hub_and_binder_make_it_carries_data(tmp_path, corpus):
    # hub/build_shared_env.sh and binder/postBuild: pip install --no-deps <the repository>
    assert_carries_data(installed_copy(tmp_path, str(REPO_ROOT)), corpus)


@pytest.mark.integration
def test_an_install_from_the_repository_with_git_as_colab_makes_it_carries_data(tmp_path, corpus):
    # The Colab set-up cell: pip install git+<the repository> (here this clone's last commit, over file://)
    assert_carries_data(installed_copy(tmp_path, f"git+file://{REPO_ROOT}"), corpus)
