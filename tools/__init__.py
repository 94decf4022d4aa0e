"""Maintainer tools. Run each from the repository root as ``python -m tools.NAME``; all of them take
their notebook lists and rules from ``tools.series``."""
