"""The computed position encodings of notebooks 07 and 08, against their defining properties."""

import math

import torch

from embeddings_course import rope_half_split, rope_interleaved, shift_matrix, sinusoidal_encoding


def test_sinusoidal_matches_the_formula():
    pe = sinusoidal_encoding([0, 3, 100], d=8)
    for row, p in enumerate([0, 3, 100]):
        for i in range(4):
            w = 10000 ** (-2 * i / 8)
            assert math.isclose(pe[row, 2 * i].item(), math.sin(w * p), abs_tol=1e-12)
            assert math.isclose(pe[row, 2 * i + 1].item(), math.cos(w * p), abs_tol=1e-12)


def test_every_sinusoidal_vector_has_length_sqrt_half_d():
    pe = sinusoidal_encoding(torch.arange(50), d=64)
    assert torch.allclose(pe.norm(dim=1), torch.full((50,), math.sqrt(32), dtype=torch.float64))


def test_shift_matrix_moves_every_position_by_k():
    pe = sinusoidal_encoding(torch.arange(40), d=32)
    for k in (1, 7, -3):
        shifted = sinusoidal_encoding(torch.arange(40) + k, d=32)
        assert torch.allclose(pe @ shift_matrix(k, 32).T, shifted, atol=1e-9)


def test_rope_scores_depend_only_on_the_offset_and_keep_lengths():
    g = torch.Generator().manual_seed(5)
    q, k = torch.randn(1, 16, generator=g, dtype=torch.float64), torch.randn(1, 16, generator=g, dtype=torch.float64)

    def score(m, n):
        return (rope_interleaved(q, [m]) * rope_interleaved(k, [n])).sum().item()

    assert math.isclose(score(9, 4), score(105, 100), abs_tol=1e-9)
    assert not math.isclose(score(9, 4), score(9, 5), abs_tol=1e-6)
    x = torch.randn(10, 16, generator=g, dtype=torch.float64)
    assert torch.allclose(rope_interleaved(x, torch.arange(10)).norm(dim=1), x.norm(dim=1))


def test_the_two_rope_layouts_agree_up_to_a_permutation():
    x = torch.randn(6, 12, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    to_half = torch.cat([torch.arange(0, 12, 2), torch.arange(1, 12, 2)])
    assert torch.allclose(
        rope_half_split(x[:, to_half], torch.arange(6)), rope_interleaved(x, torch.arange(6))[:, to_half]
    )
