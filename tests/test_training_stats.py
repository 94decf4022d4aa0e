"""The statistics 06 prints about a training run: rank correlation and stable rounding."""

import pytest
import torch

from embeddings_course.stats import average_ranks, rank_correlation, round_stably


def test_ties_share_their_average_rank():
    assert average_ranks(torch.tensor([30, 10, 20, 20])).tolist() == [4.0, 1.0, 2.5, 2.5]


def test_rank_correlation_without_ties_matches_the_textbook_formula():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randperm(50, generator=generator), torch.randperm(50, generator=generator)
    n, d = len(x), (x - y).double()
    assert rank_correlation(x, y) == pytest.approx(1 - 6 * (d**2).sum().item() / (n * (n**2 - 1)), abs=1e-12)


def test_rank_correlation_sees_only_the_order():
    x = torch.tensor([1.0, 5.0, 2.0, 8.0, 8.0, 3.0])
    assert rank_correlation(x, x.exp()) == pytest.approx(1.0)
    assert rank_correlation(x, -x) == pytest.approx(-1.0)
    assert rank_correlation(x, torch.tensor([2, 9, 3, 4, 4, 3])) == pytest.approx(
        torch.corrcoef(torch.stack([average_ranks(x), torch.tensor([1, 6, 2.5, 4.5, 4.5, 2.5])]))[0, 1].item()
    )


def test_rank_correlation_refuses_what_it_cannot_measure():
    with pytest.raises(ValueError, match="same length"):
        rank_correlation([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="constant"):
        rank_correlation([1, 2, 3], [4, 4, 4])


def test_round_stably_prints_only_digits_every_nearby_value_shares():
    assert round_stably(3.0406, 2, 1e-3) == "3.04"
    assert round_stably(-1.2649, 1, 1e-3) == "-1.3"
    with pytest.raises(AssertionError, match="rounding boundary"):
        round_stably(2.0449, 2, 1e-3)  # 2.0449 and 2.0451 would print differently
