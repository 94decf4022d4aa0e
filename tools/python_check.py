"""Is this Python one the series supports? Run by `make` with the chosen interpreter, before it builds .venv.

    python tools/python_check.py

Exit status 0 and no output for a supported Python (3.11, 3.12, 3.13); otherwise one message that names
the version, says whether it is too old or too new, and how to choose another, and exit status 1.
UNTESTED_PYTHON=1 lets a newer Python through, with a warning. Standard library only, and no syntax
newer than Python 3.6's, so that an old interpreter gets the message rather than a syntax error.
"""

import os
import sys

OLDEST = (3, 11)  # numpy, matplotlib and IPython's pins need 3.11
NEWEST = (3, 13)  # the newest Python that `make test` is run with in CI (docs/maintaining.md)
TESTED = "3.11, 3.12 or 3.13"


def verdict(version, allow_untested=False):
    """(exit status, message) for a Python version tuple; the message is empty when all is well."""
    shown = ".".join(str(part) for part in version[:3])
    if tuple(version[:2]) < OLDEST:
        return 1, (
            f"Python {shown} is too old for this series: it needs Python {TESTED}. Install one of them and choose it, "
            "for example: make lab PYTHON=python3.12"
        )
    if tuple(version[:2]) > NEWEST:
        message = (
            f"Python {shown} is newer than this series is tested with ({TESTED}): its pinned packages may have no "
            "release for it yet. Choose a tested one, for example: make lab PYTHON=python3.13"
        )
        if allow_untested:
            return 0, "warning: " + message + " (going on, since UNTESTED_PYTHON is set)"
        return 1, message + "; or try it anyway with UNTESTED_PYTHON=1"
    return 0, ""


def main():
    status, message = verdict(sys.version_info, allow_untested=bool(os.environ.get("UNTESTED_PYTHON")))
    if message:
        print("==> " + message, file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
