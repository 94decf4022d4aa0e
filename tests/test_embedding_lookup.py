"""The torch behaviour the notebooks teach, pinned so a torch upgrade that changes it is noticed."""

import pytest
import torch


def seeded_layer():
    torch.manual_seed(123)
    return torch.nn.Embedding(6, 3)


def test_lookup_is_row_selection_and_one_hot_matmul():
    layer = seeded_layer()
    ids = torch.tensor([2, 3, 5, 1])
    assert torch.equal(layer(ids), layer.weight[ids])
    one_hot = torch.nn.functional.one_hot(ids, num_classes=6).float()
    assert torch.equal(one_hot @ layer.weight, layer(ids))


@pytest.mark.parametrize("bad_index", [6, 100])
def test_index_outside_the_vocabulary_raises_index_error(bad_index):
    layer = seeded_layer()
    with pytest.raises(IndexError, match="index out of range"):
        layer(torch.tensor([bad_index]))


def test_negative_index_is_not_python_style_wraparound():
    layer = seeded_layer()
    with pytest.raises(IndexError, match="index out of range"):
        layer(torch.tensor([-1]))


def test_float_ids_are_refused():
    layer = seeded_layer()
    with pytest.raises(RuntimeError, match="Long, Int"):
        layer(torch.tensor([1.0]))
