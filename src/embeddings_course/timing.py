"""Timing for notebook 05: how long one call takes, measured with PyTorch's own torch.utils.benchmark."""

from __future__ import annotations

import logging


def _benchmark_timer():
    """torch.utils.benchmark.Timer. Importing it looks for a CUDA toolkit, and where one is installed on a
    machine without a GPU, torch logs a warning that has nothing to do with timing on the CPU: muted here."""
    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        from torch.utils.benchmark import Timer
    finally:
        logger.setLevel(level)
    return Timer


def fastest_block(stmt: str, min_run_time: float = 0.2, **names) -> float:
    """Seconds per call of `stmt` in its fastest block, on one thread, after a warm-up.

    `names` are the variables `stmt` uses. Timer runs a few calls to warm up (the first ones allocate
    memory), then repeated blocks of calls for at least `min_run_time` seconds; the fastest block is the
    one least disturbed by other programs."""
    timer = _benchmark_timer()(stmt, globals=names, num_threads=1)
    timer.timeit(3)  # warm-up
    return min(timer.blocked_autorange(min_run_time=min_run_time).times)
