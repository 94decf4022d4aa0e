"""A stand-in for Colab's `google.colab` module that does nothing but write down what is asked of it.

`make colab-check` (tools/colab_check.py) copies this file into a folder of its own as `google/colab/__init__.py`,
and the stand-in kernel imports it at start, as Colab's kernels import the real one: so `"google.colab" in
sys.modules` is true in every notebook run there, and nothing of this repository is on the kernel's path.

Every attribute read or call on `google.colab`, or on one of its submodules (`google.colab.output`,
`google.colab.drive`, ... any name: `import google.colab.anything` works), is appended to the file named by
$COLAB_STANDIN_LOG, one JSON object a line:

    {"event": "getattr", "name": "google.colab.output", "caller": "/tmp/ipykernel_1/123.py:3"}
    {"event": "call", "name": "google.colab.output.enable_custom_widget_manager", "args": [], "kwargs": {},
     "caller": "..."}
    {"event": "import", "name": "google.colab.drive", "caller": "..."}

Attributes are whatever they are asked to be: a call returns a new recorder (named `<name>()`), so a chain such
as `google.colab.drive.mount("/content/drive")` runs and is written down in full; nothing it would do in Colab
happens. Dunder names (`__spec__`, `__path__`, ... which the import system and introspection read on every
module) are not recorded. Without $COLAB_STANDIN_LOG nothing is written.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
import types

LOG_VARIABLE = "COLAB_STANDIN_LOG"
ROOT = "google.colab"
_HERE = os.path.abspath(__file__)


def _caller() -> str:
    """file:line of the first frame outside this file (the notebook's cell, or the library that asked)."""
    frame = sys._getframe(1)
    while frame is not None and (
        os.path.abspath(frame.f_code.co_filename) == _HERE or frame.f_code.co_filename.startswith("<frozen importlib")
    ):
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _safe_repr(value) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a repr that raises must not break the notebook
        text = f"<unrepresentable {type(value).__name__}: {error}>"
    return text if len(text) <= 200 else text[:200] + "..."


def record(event: str, name: str, **details) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if not path:
        return
    entry = {"event": event, "name": name, **details, "caller": _caller()}
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


class Recorder:
    """Any attribute of google.colab that is not a submodule: records reads of its attributes and calls."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        name = f"{object.__getattribute__(self, '_name')}.{attribute}"
        record("getattr", name)
        return Recorder(name)

    def __setattr__(self, attribute: str, value) -> None:
        record("setattr", f"{object.__getattribute__(self, '_name')}.{attribute}", value=_safe_repr(value))

    def __call__(self, *args, **kwargs):
        name = object.__getattribute__(self, "_name")
        record(
            "call",
            name,
            args=[_safe_repr(a) for a in args],
            kwargs={k: _safe_repr(v) for k, v in kwargs.items()},
        )
        return Recorder(f"{name}()")

    def __repr__(self) -> str:
        return f"<google.colab stand-in: {object.__getattribute__(self, '_name')}>"


class RecordingModule(types.ModuleType):
    """google.colab and its submodules: every attribute read is recorded; a missing one is a Recorder."""

    def __getattribute__(self, attribute: str):
        if attribute.startswith("__") and attribute.endswith("__"):
            return super().__getattribute__(attribute)
        name = f"{super().__getattribute__('__name__')}.{attribute}"
        record("getattr", name)
        try:
            return super().__getattribute__(attribute)
        except AttributeError:
            return Recorder(name)

    def __setattr__(self, attribute: str, value) -> None:
        # The import system sets a submodule as an attribute of its parent: that is not the notebook's doing.
        if not (attribute.startswith("__") and attribute.endswith("__")) and not isinstance(value, RecordingModule):
            record("setattr", f"{super().__getattribute__('__name__')}.{attribute}", value=_safe_repr(value))
        super().__setattr__(attribute, value)


class _SubmoduleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`import google.colab.X` for any X: an empty RecordingModule, recorded as an import."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(ROOT + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = RecordingModule(spec.name)
        return module

    def exec_module(self, module) -> None:
        record("import", module.__name__)
        module.__path__ = []


def _install() -> None:
    module = sys.modules[__name__]
    module.__class__ = RecordingModule
    if not any(isinstance(finder, _SubmoduleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SubmoduleFinder())


if __name__ == ROOT:
    _install()
