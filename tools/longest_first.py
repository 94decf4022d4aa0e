"""A pytest plugin: the slow notebooks start first, so that two workers finish together.

pytest-xdist (`--dist loadscope --no-loadscope-reorder`) hands out files in collection order. The
notebooks' kernels do most of the work, and the solutions re-run their chapter's training with
variations (06's solutions train four models), so this order is: notebooks before the Python tests,
solutions before chapters, later notebooks before earlier ones. The short tests then fill the gaps.
Only the order changes: every test still runs. Loaded from pytest.ini (`-p tools.longest_first`).
"""

from pathlib import Path

from tools import series


def start_order(path: Path) -> tuple:
    """Sort key of a test file: smaller starts earlier."""
    if path.suffix != ".ipynb":
        return (2,)
    kind = 0 if path.parent == series.SOLUTION_DIR else 1
    chapter = series.number(path)
    return (kind, -int(chapter) if chapter.isdigit() else 0)  # the index: after the chapters


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: start_order(Path(item.path).resolve()))  # stable: cells keep their order
