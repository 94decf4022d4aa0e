"""The exercises' self-checks: is a learner's numeric answer right, however they typed it?"""

from __future__ import annotations

import math

from .text import END_OF_TEXT, load_corpus
from .tokenizer import gpt2_tokenizer


def _corpus_token_count() -> int:
    return len(gpt2_tokenizer().encode(load_corpus(), allowed_special={END_OF_TEXT}))


def _gpt2_parameters(d: int, n_blocks: int, vocab: int = 50257, context: int = 1024) -> int:
    block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)
    return vocab * d + context * d + n_blocks * block + 2 * d


# Each answer is computed here from its definition, never typed in.
_ANSWERS = {
    "01.2": ("bytes in GPT-2 small's token table (float32)", lambda: 50257 * 768 * 4),
    "03.1": ("windows with max_length=4, stride=1", lambda: len(range(0, _corpus_token_count() - 4, 1))),
    "03.2": (
        "batches with batch_size=4, max_length=256, stride=128",
        lambda: len(range(0, _corpus_token_count() - 256, 128)) // 4,
    ),
    "03.3": (
        "batches with batch_size=8, max_length=8, stride=2",
        lambda: len(range(0, _corpus_token_count() - 8, 2)) // 8,
    ),
    "05.2": (
        "fewest tokens whose one-hot input outgrows GPT-2 small's token table",
        lambda: min(n for n in range(1, 10_000) if n * 50257 * 4 > 50257 * 768 * 4),
    ),
    "05.4": ("GPT-2 XL's parameters", lambda: _gpt2_parameters(d=1600, n_blocks=48)),
    "08.1": ("relative-bias parameters with K=1", lambda: 2 * 1 + 1),
    "08.3": ("largest ALiBi slope with 16 heads", lambda: max(2 ** (-8 * h / 16) for h in range(1, 17))),
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
        return None, 'type one number: without commas (154389504), or in quotes ("154,389,504")'
    answer = parts[0]
    if isinstance(answer, bool):
        return None, "type a number, not True or False"
    if isinstance(answer, (int, float)):
        return float(answer), None
    if not isinstance(answer, str):
        return None, f'type a number (for example 12345 or "12,345"), not a {type(answer).__name__}'
    operators = {
        ast.Add: operator.add,
        ast.Sub: operator.sub,
        ast.Mult: operator.mul,
        ast.Div: operator.truediv,
        ast.FloorDiv: operator.floordiv,
        ast.Pow: operator.pow,
        ast.USub: operator.neg,
        ast.UAdd: operator.pos,
    }

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
        return (
            None,
            f'could not read {answer!r} as a number: type digits ("12,345" is fine) or arithmetic like "50257*768*4"',
        )


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

    Accepted: a number (``154389504``), a string as the notebooks print it (``"154,389,504"``),
    arithmetic (``"50257*768*4"``), and digits typed with commas (``154,389,504``). Right means within
    ``rel_tol`` of the exact value, or equal to it rounded to the decimals you typed, with at least
    two significant digits (``0.0039`` for 0.00390625).
    """
    if exercise not in _ANSWERS:
        raise KeyError(f"no self-check for exercise {exercise!r}; there are: {', '.join(sorted(_ANSWERS))}")
    what, compute = _ANSWERS[exercise]
    if not answer:
        print(
            f'{exercise} ({what}): give your answer after the exercise number, e.g. check_answer("{exercise}", 12345).'
        )
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
