"""Course code taught in notebook 03: the corpus, and sliding windows of token ids in batches."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from .tokenizer import gpt2_tokenizer


def _data_dir() -> Path:
    """The repository's data/ folder. An installed copy of the package (a wheel: the class hub, Binder, Colab)
    carries it as embeddings_course/data/ (pyproject.toml maps it there); an editable install (make setup, the
    path without make) runs from src/embeddings_course/ and reads the repository's own data/."""
    package = Path(__file__).resolve().parent
    installed_copy = package / "data"
    return installed_copy if installed_copy.is_dir() else package.parent.parent / "data"


DATA_DIR = _data_dir()
CORPUS_PATH = DATA_DIR / "lantern-street.txt"
END_OF_TEXT = "<|endoftext|>"


def load_corpus(path: str | os.PathLike | None = None) -> str:
    """Read the project's corpus (or another UTF-8 text file)."""
    path = Path(path) if path is not None else CORPUS_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"Corpus file not found: {path}. The corpus is the repository's data/lantern-street.txt: run "
            "`make data` in the repository to restore and check it, or reinstall the series' package."
        )
    return path.read_text(encoding="utf-8")


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")


class GPTDatasetV1(Dataset):
    """Sliding windows over a text: inputs of ``max_length`` token ids, targets shifted by one."""

    def __init__(self, txt: str, tokenizer, max_length: int, stride: int):
        if not isinstance(txt, str):
            raise TypeError(f"txt must be a str, got {type(txt).__name__}")
        _check_positive_int("max_length", max_length)
        _check_positive_int("stride", stride)

        token_ids = tokenizer.encode(txt, allowed_special={END_OF_TEXT})
        if len(token_ids) <= max_length:
            raise ValueError(
                f"txt is too short for one window: it has {len(token_ids)} tokens, but "
                f"max_length={max_length} needs at least {max_length + 1} "
                "(the inputs plus one more token for the shifted targets)"
            )

        self.input_ids = []
        self.target_ids = []
        for start in range(0, len(token_ids) - max_length, stride):
            input_chunk = token_ids[start : start + max_length]
            target_chunk = token_ids[start + 1 : start + max_length + 1]
            self.input_ids.append(torch.tensor(input_chunk))
            self.target_ids.append(torch.tensor(target_chunk))

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, idx: int):
        return self.input_ids[idx], self.target_ids[idx]


def create_dataloader_v1(
    txt: str,
    batch_size: int = 4,
    max_length: int = 256,
    stride: int = 128,
    shuffle: bool = True,
    drop_last: bool = True,
    num_workers: int = 0,
) -> DataLoader:
    """Batches of (inputs, targets), each of shape (batch_size, max_length)."""
    _check_positive_int("batch_size", batch_size)
    dataset = GPTDatasetV1(txt, gpt2_tokenizer(), max_length=max_length, stride=stride)
    if drop_last and len(dataset) < batch_size:
        raise ValueError(
            f"only {len(dataset)} windows (max_length={max_length}, stride={stride}) fit in txt, "
            f"fewer than batch_size={batch_size}; with drop_last=True there would be no batch at all. "
            "Use a longer text, a smaller batch_size or stride, or drop_last=False."
        )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=num_workers,
    )
