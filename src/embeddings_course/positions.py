"""Course code taught in notebooks 07 and 08: computed position encodings (float64, so identities
can be checked tightly)."""

from __future__ import annotations

import torch


def inverse_frequencies(d, base=10000.0):
    """The angle per position of each of the d/2 pairs: base ** (-2i / d), i = 0 .. d/2 - 1."""
    return base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)


def sinusoidal_encoding(positions, d, base=10000.0):
    """Rows of sin/cos pairs for each position; positions may be any numbers."""
    positions = torch.as_tensor(positions, dtype=torch.float64).reshape(-1, 1)  # (P, 1)
    frequencies = inverse_frequencies(d, base)  # (d/2,)
    encoding = torch.zeros(len(positions), d, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(positions * frequencies)
    encoding[:, 1::2] = torch.cos(positions * frequencies)
    return encoding


def shift_matrix(k, d, base=10000.0):
    """Block-diagonal rotation that maps PE(p) to PE(p + k), for every p."""
    matrix = torch.zeros(d, d, dtype=torch.float64)
    for i, angle in enumerate(inverse_frequencies(d, base) * k):
        c, s = torch.cos(angle), torch.sin(angle)
        matrix[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.stack([torch.stack([c, s]), torch.stack([-s, c])])
    return matrix


def rope_interleaved(x, positions, base=10000.0):
    """Rotate pairs (0, 1), (2, 3), ... of each row of x (T, d) by position * theta_i."""
    theta = inverse_frequencies(x.shape[-1], base)  # (d/2,)
    angles = torch.as_tensor(positions, dtype=torch.float64)[:, None] * theta  # (T, d/2)
    cos, sin = angles.cos(), angles.sin()
    first, second = x[:, 0::2], x[:, 1::2]
    rotated = torch.empty_like(x)
    rotated[:, 0::2] = first * cos - second * sin
    rotated[:, 1::2] = first * sin + second * cos
    return rotated


def rope_half_split(x, positions, base=10000.0):
    """Rotate pairs (i, i + d/2) of each row of x (T, d) by position * theta_i."""
    d = x.shape[-1]
    angles = torch.as_tensor(positions, dtype=torch.float64)[:, None] * inverse_frequencies(d, base)  # (T, d/2)
    cos, sin = angles.cos(), angles.sin()
    first, second = x[:, : d // 2], x[:, d // 2 :]
    return torch.cat([first * cos - second * sin, first * sin + second * cos], dim=1)


def relative_position_bucket(offsets, bidirectional=True, num_buckets=32, max_distance=128):
    """T5's bucket for each offset (key position minus query position).

    Distances below `exact` get a bucket each; farther ones share buckets that widen logarithmically,
    reaching `max_distance` at the last one, which takes every distance from its start on. An encoder
    (bidirectional) splits the buckets in two: the first half for the query and the keys before it, the
    second for the keys after it. A decoder sees no key after the query and uses all of them on one side.
    Computed in integers, so that no rounding can move a distance into a neighbouring bucket.
    """
    offsets = torch.as_tensor(offsets)
    if bidirectional:
        num_buckets //= 2
        first_bucket = (offsets > 0).long() * num_buckets  # keys after the query: the second half
        distances = offsets.abs()
    else:
        first_bucket = torch.zeros_like(offsets)
        distances = (-offsets).clamp(min=0)  # a key after the query: the causal mask hides it anyway
    exact = num_buckets // 2
    n_wide = num_buckets - exact

    def bucket(distance: int) -> int:
        if distance < exact:
            return distance
        # exact + k for the largest k < n_wide with distance >= exact * (max_distance / exact) ** (k / n_wide)
        return exact + max(
            k for k in range(n_wide) if distance**n_wide * exact**k >= max_distance**k * exact**n_wide
        )

    return first_bucket + torch.tensor([bucket(d) for d in distances.flatten().tolist()]).reshape(offsets.shape)
