"""The computed position encodings of notebooks 07 and 08, against their defining properties."""

import math

import torch

from embeddings_course import (
    relative_position_bucket,
    rope_half_split,
    rope_interleaved,
    shift_matrix,
    sinusoidal_encoding,
)


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


def t5_bucket_by_floats(offset: int, bidirectional: bool, num_buckets=32, max_distance=128) -> int:
    """T5's bucket as its papers' code computes it, with a float logarithm: an independent check."""
    first = 0
    if bidirectional:
        num_buckets //= 2
        first = num_buckets if offset > 0 else 0
        distance = abs(offset)
    else:
        distance = max(-offset, 0)
    exact = num_buckets // 2
    if distance < exact:
        return first + distance
    wide = exact + int(math.log(distance / exact) / math.log(max_distance / exact) * (num_buckets - exact))
    return first + min(wide, num_buckets - 1)


def test_relative_position_bucket_agrees_with_the_float_formula_far_beyond_max_distance():
    offsets = torch.arange(-5000, 5001)
    for bidirectional in (True, False):
        ours = relative_position_bucket(offsets, bidirectional).tolist()
        assert ours == [t5_bucket_by_floats(o, bidirectional) for o in offsets.tolist()]


def test_relative_position_bucket_last_buckets_start_at_91_and_113():
    distances = torch.arange(0, 200)
    encoder = relative_position_bucket(-distances, bidirectional=True)
    decoder = relative_position_bucket(-distances, bidirectional=False)
    assert int((encoder < 15).sum()) == 91 and encoder.max() == 15
    assert int((decoder < 31).sum()) == 113 and decoder.max() == 31
    after = relative_position_bucket(distances[1:], bidirectional=True)
    assert after.min() == 17 and after.max() == 31  # bucket 16 (distance 0 after the query) is never used
