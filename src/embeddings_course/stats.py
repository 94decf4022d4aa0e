"""Numbers for the training run in 06: rank correlation, and printing trained values that every CPU agrees on."""

from __future__ import annotations

import torch


def average_ranks(values):
    """Ranks 1..N of the entries of a 1-D tensor, tied entries sharing their average rank (float64)."""
    values = torch.as_tensor(values).detach().flatten()
    order = values.argsort(stable=True)
    _, group, group_size = torch.unique_consecutive(values[order], return_inverse=True, return_counts=True)
    first = torch.cumsum(group_size, dim=0) - group_size  # 0-based position of each group's first entry
    group_rank = first.double() + (group_size.double() + 1) / 2
    ranks = torch.empty(len(values), dtype=torch.float64)
    ranks[order] = group_rank[group]
    return ranks


def rank_correlation(x, y) -> float:
    """Spearman's rank correlation: the Pearson correlation of the average ranks of x and y."""
    x, y = torch.as_tensor(x).flatten(), torch.as_tensor(y).flatten()
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"need two sequences of the same length, at least 2, got {len(x)} and {len(y)}")
    rx, ry = average_ranks(x), average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    if rx.norm() == 0 or ry.norm() == 0:
        raise ValueError("a constant sequence has no rank correlation")
    return float(rx @ ry / (rx.norm() * ry.norm()))


def round_stably(value: float, decimals: int, tolerance: float) -> str:
    """``value`` with ``decimals`` decimals, provided every value within ``tolerance`` prints the same.

    Trained numbers differ in their last bits between CPUs and thread counts. If they differ by less
    than ``tolerance``, and this value is further than ``tolerance`` from a rounding boundary, every
    machine prints the same digits; otherwise this raises, and fewer decimals should be printed.
    """
    scale = 10**decimals
    to_boundary = abs(abs(value) * scale % 1 - 0.5) / scale
    if to_boundary <= tolerance:
        raise AssertionError(
            f"{value!r} is within {tolerance} of a rounding boundary at {decimals} decimals: "
            "a machine whose last bits differ could print other digits; print fewer decimals"
        )
    return f"{value:.{decimals}f}"
