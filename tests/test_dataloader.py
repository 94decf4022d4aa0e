"""The sliding-window dataset and loader: semantics, and a clear error for each bad input."""

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from embeddings_course import CORPUS_PATH, GPTDatasetV1, create_dataloader_v1, load_corpus


class ReferenceDataset(Dataset):
    """The book's semantics, written out independently: windows start at
    range(0, len(ids) - max_length, stride); targets are the inputs shifted by one."""

    def __init__(self, txt, tokenizer, max_length, stride):
        ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        starts = list(range(0, len(ids) - max_length, stride))
        self.pairs = [
            (torch.tensor(ids[s : s + max_length]), torch.tensor(ids[s + 1 : s + 1 + max_length])) for s in starts
        ]

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, i):
        return self.pairs[i]


def reference_loader(txt, tokenizer, batch_size, max_length, stride, shuffle, drop_last):
    dataset = ReferenceDataset(txt, tokenizer, max_length, stride)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)


def assert_same_batches(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for (x1, y1), (x2, y2) in zip(ours, theirs):
        assert torch.equal(x1, x2)
        assert torch.equal(y1, y2)


SETTINGS = [
    # batch_size, max_length, stride, drop_last
    (8, 4, 4, True),
    (4, 256, 128, True),
    (3, 5, 1, False),
    (2, 7, 3, True),
    (5, 16, 32, False),  # stride larger than the window: gaps between windows
    (1, 1, 1, True),
]


@pytest.mark.parametrize("batch_size,max_length,stride,drop_last", SETTINGS)
def test_same_batches_as_reference_on_corpus(tokenizer, corpus, batch_size, max_length, stride, drop_last):
    ours = create_dataloader_v1(
        corpus, batch_size=batch_size, max_length=max_length, stride=stride, shuffle=False, drop_last=drop_last
    )
    theirs = reference_loader(corpus, tokenizer, batch_size, max_length, stride, False, drop_last)
    assert_same_batches(ours, theirs)


TEXTS = [
    "a b c d e f g h i j k l m n o p",
    "Hello, world.<|endoftext|>Another document starts here, after the special token.",
    "Unicode too: naïve café, 東京, emoji 🙂, tabs\tand\nnew lines.\n\n",
    "x" * 300,
]


@pytest.mark.parametrize("txt", TEXTS)
@pytest.mark.parametrize("max_length,stride", [(1, 1), (2, 1), (3, 2), (4, 4)])
def test_same_batches_as_reference_on_other_texts(tokenizer, txt, max_length, stride):
    ours = create_dataloader_v1(txt, batch_size=1, max_length=max_length, stride=stride, shuffle=False)
    theirs = reference_loader(txt, tokenizer, 1, max_length, stride, False, True)
    assert_same_batches(ours, theirs)


def test_same_batches_as_reference_when_shuffled(tokenizer, corpus):
    torch.manual_seed(7)
    ours = list(create_dataloader_v1(corpus, batch_size=8, max_length=4, stride=4, shuffle=True))
    torch.manual_seed(7)
    theirs = list(reference_loader(corpus, tokenizer, 8, 4, 4, True, True))
    assert_same_batches(ours, theirs)


def test_first_batch_of_the_notebook_setting(tokenizer, corpus):
    ids = tokenizer.encode(corpus, allowed_special={"<|endoftext|>"})
    inputs, targets = next(iter(create_dataloader_v1(corpus, batch_size=8, max_length=4, stride=4, shuffle=False)))
    assert inputs.shape == torch.Size([8, 4])
    assert targets.shape == torch.Size([8, 4])
    assert inputs.dtype == torch.long
    # Row r starts at token 4r (stride 4); the targets are the same window moved one token on.
    for row in range(8):
        assert inputs[row].tolist() == ids[4 * row : 4 * row + 4]
        assert targets[row].tolist() == ids[4 * row + 1 : 4 * row + 5]


def test_windows_and_batches_are_counted_as_documented(tokenizer, corpus):
    n_tokens = len(tokenizer.encode(corpus, allowed_special={"<|endoftext|>"}))
    dataset = GPTDatasetV1(corpus, tokenizer, max_length=4, stride=4)
    assert len(dataset) == len(range(0, n_tokens - 4, 4))
    loader = create_dataloader_v1(corpus, batch_size=8, max_length=4, stride=4, shuffle=False)
    assert len(loader) == len(dataset) // 8


def test_long_windows_make_batches_on_the_corpus(corpus):
    loader = create_dataloader_v1(corpus, batch_size=4, max_length=256, stride=128, shuffle=False)
    inputs, targets = next(iter(loader))
    assert inputs.shape == targets.shape == torch.Size([4, 256])
    assert len(loader) >= 5


def test_end_of_text_is_allowed_as_a_special_token(tokenizer):
    txt = "one two<|endoftext|>three four five"
    dataset = GPTDatasetV1(txt, tokenizer, max_length=2, stride=1)
    all_ids = torch.cat([x for x, _ in dataset] + [y for _, y in dataset]).tolist()
    assert tokenizer.eot_token == 50256
    assert 50256 in all_ids


def test_exactly_one_window_when_text_has_max_length_plus_one_tokens(tokenizer):
    txt = " the" * 11
    ids = tokenizer.encode(txt)
    assert len(ids) == 11
    dataset = GPTDatasetV1(txt, tokenizer, max_length=10, stride=1)
    assert len(dataset) == 1
    x, y = dataset[0]
    assert x.tolist() == ids[:10]
    assert y.tolist() == ids[1:]


# ---------------------------------------------------------------- bad input


def test_text_shorter_than_one_window(tokenizer):
    with pytest.raises(ValueError, match=r"txt is too short for one window: it has 2 tokens.*max_length=4"):
        create_dataloader_v1("Hello world", batch_size=1, max_length=4, stride=1)


def test_text_of_exactly_max_length_tokens_is_too_short(tokenizer):
    txt = " the" * 10  # 10 tokens: no room for the shifted target
    assert len(tokenizer.encode(txt)) == 10
    with pytest.raises(ValueError, match="needs at least 11"):
        GPTDatasetV1(txt, tokenizer, max_length=10, stride=1)


def test_empty_text(tokenizer):
    with pytest.raises(ValueError, match="it has 0 tokens"):
        create_dataloader_v1("", batch_size=1, max_length=1, stride=1)


@pytest.mark.parametrize("name", ["max_length", "stride", "batch_size"])
@pytest.mark.parametrize("value", [0, -1])
def test_non_positive_sizes(corpus, name, value):
    kwargs = dict(batch_size=8, max_length=4, stride=4)
    kwargs[name] = value
    with pytest.raises(ValueError, match=f"{name} must be a positive int, got {value}"):
        create_dataloader_v1(corpus, **kwargs)


@pytest.mark.parametrize("name", ["max_length", "stride", "batch_size"])
@pytest.mark.parametrize("value", [4.0, "4", None, True])
def test_sizes_that_are_not_ints(corpus, name, value):
    kwargs = dict(batch_size=8, max_length=4, stride=4)
    kwargs[name] = value
    with pytest.raises(TypeError, match=f"{name} must be an int"):
        create_dataloader_v1(corpus, **kwargs)


@pytest.mark.parametrize("txt", [None, b"bytes are not text", ["a", "list"], 42])
def test_text_that_is_not_a_str(txt):
    with pytest.raises(TypeError, match="txt must be a str"):
        create_dataloader_v1(txt, batch_size=1, max_length=1, stride=1)


def test_fewer_windows_than_one_batch_with_drop_last(tokenizer):
    txt = " the" * 11  # 11 tokens, max_length 4, stride 4 -> windows at 0 and 4
    with pytest.raises(ValueError, match=r"only 2 windows .* fewer than batch_size=8"):
        create_dataloader_v1(txt, batch_size=8, max_length=4, stride=4, drop_last=True)


def test_fewer_windows_than_one_batch_without_drop_last_gives_a_short_batch(tokenizer):
    txt = " the" * 11
    batches = list(create_dataloader_v1(txt, batch_size=8, max_length=4, stride=4, drop_last=False, shuffle=False))
    assert len(batches) == 1
    assert batches[0][0].shape == torch.Size([2, 4])


def test_missing_corpus_file_names_the_file_and_the_make_target(tmp_path):
    missing = tmp_path / "no-such-corpus.txt"
    with pytest.raises(FileNotFoundError) as info:
        load_corpus(missing)
    assert str(missing) in str(info.value)
    assert "make data" in str(info.value)


def test_default_corpus_is_the_shipped_file(corpus):
    assert CORPUS_PATH.read_text(encoding="utf-8") == corpus
