"""The corpus README states the corpus' size and checksum; recompute each number from the file."""

import hashlib
import re
import subprocess

from embeddings_course import CORPUS_PATH, create_dataloader_v1

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
