"""The exercises' self-checks: is a learner's numeric answer right, however they typed it?

A whole-number answer is right only if it is exactly right: the exercises exist to catch off-by-one
mistakes. A fractional answer is right if it is the value to float32's precision (a learner's tensor may
be float32), or the value rounded to the decimals typed.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .text import END_OF_TEXT, load_corpus
from .tokenizer import gpt2_tokenizer


def _corpus_token_count() -> int:
    return len(gpt2_tokenizer().encode(load_corpus(), allowed_special={END_OF_TEXT}))


def _windows(max_length: int, stride: int) -> int:
    """Windows of notebook 03 §3.5: one starts every `stride` ids while a window and its next token fit."""
    return len(range(0, _corpus_token_count() - max_length, stride))


def _gpt2_parameters(d: int, n_blocks: int, vocab: int = 50257, context: int = 1024) -> int:
    block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)
    return vocab * d + context * d + n_blocks * block + 2 * d


def _alibi_exponents(n_heads: int) -> set[Fraction]:
    """ALiBi's slopes 2^(-8h/H), h = 1..H, as their exact exponents."""
    return {Fraction(-8 * h, n_heads) for h in range(1, n_heads + 1)}


# Each answer is computed here from its definition, never typed in; a letter tells the numbers of one
# exercise apart. The solutions notebooks confirm every one with an independent computation.
_ANSWERS = {
    "01.2": ("the bytes of GPT-2 small's token table in float32", lambda: 50257 * 768 * 4),
    "03.1": ("the number of windows with max_length=4 and stride=1", lambda: _windows(4, 1)),
    "03.2": ("the number of batches with batch_size=4, max_length=256 and stride=128", lambda: _windows(256, 128) // 4),
    "03.3a": ("the number of windows with max_length=8 and stride=3", lambda: _windows(8, 3)),
    "03.3b": ("the number of batches of 8 of those windows, with drop_last=True", lambda: _windows(8, 3) // 8),
    "03.3c": ("the number of those windows that drop_last throws away", lambda: _windows(8, 3) % 8),
    "04.1a": ("the number of different token vectors 'ighter' gets in rows 0 to 3", lambda: len({"ighter"})),
    "04.1b": ("the number of different input vectors it gets there", lambda: len({3, 2, 1, 0})),
    "04.2": ("the width of the concatenated vectors", lambda: 256 + 256),
    "05.2": (
        "the fewest tokens whose float32 one-hot input takes more bytes than GPT-2 small's token table",
        lambda: min(n for n in range(1, 10_000) if n * 50257 * 4 > 50257 * 768 * 4),
    ),
    "05.4a": ("the number of GPT-2 XL's parameters", lambda: _gpt2_parameters(d=1600, n_blocks=48)),
    "05.4b": (
        "the token table's share of GPT-2 XL's parameters, in percent",
        lambda: 100 * 50257 * 1600 / _gpt2_parameters(d=1600, n_blocks=48),
    ),
    "07.1": ("the place whose output the shuffle leaves unchanged (counting from 0)", lambda: 7 - 1),
    "08.1": ("the number of relative-bias parameters with K=1", lambda: 2 * 1 + 1),
    "08.3a": ("the largest ALiBi slope with 16 heads", lambda: 2.0 ** float(max(_alibi_exponents(16)))),
    "08.3b": (
        "the number of 16-head slopes that are not among the 8-head slopes",
        lambda: len(_alibi_exponents(16) - _alibi_exponents(8)),
    ),
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
    if hasattr(answer, "item") and hasattr(answer, "shape"):  # a torch tensor or a numpy number
        n_numbers = math.prod(answer.shape)
        if n_numbers != 1:
            return None, f"type one number, not a {type(answer).__name__} of {n_numbers} numbers"
        answer = answer.item()
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

    if re.search(r",(\d{1,2}|\d{4,})(?!\d)", answer):  # "5,16": a comma that cannot separate thousands
        return None, f'could not read {answer!r}: for a fraction, type a decimal point ("5.16"), not a comma'
    text = answer.strip().replace(",", "").replace("_", "").replace(" ", "").replace("×", "*").replace("^", "**")
    text = text.removesuffix("%")  # a share typed as "5.2%": the exercises ask for percent
    try:
        return float(evaluate(ast.parse(text, mode="eval").body)), None
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return (
            None,
            f'could not read {answer!r} as a number: type digits ("12,345" is fine) or arithmetic like "50257*768*4"',
        )


def _decimals_typed(parts) -> int | None:
    """How many decimals the learner wrote (0.0039 → 4), if they wrote a plain decimal number at all."""
    if len(parts) != 1 or isinstance(parts[0], bool) or not isinstance(parts[0], (float, str)):
        return None
    text = repr(parts[0]) if isinstance(parts[0], float) else parts[0].strip().removesuffix("%")
    if "e" in text.lower() or "." not in text or any(c in text for c in "+-*/^×"):
        return None
    return len(text.split(".", 1)[1])


def _is_right(expected: int | float, value: float, parts) -> bool:
    if isinstance(expected, int):
        return value == expected  # exactly: 5365 for 5364 is the mistake the exercise is about
    if math.isclose(value, expected, rel_tol=1e-6):  # float32 keeps about 7 significant digits
        return True
    decimals = _decimals_typed(parts)
    if decimals is None or expected == 0:
        return False
    significant = decimals + math.floor(math.log10(abs(expected))) + 1
    return significant >= 2 and round(expected, decimals) == round(value, decimals)


def check_answer(exercise: str, *answer) -> None:
    """Print whether your answer to a numeric exercise is right.

    Accepted: a number (``154389504``), a string as the notebooks print it (``"154,389,504"``),
    arithmetic (``"50257*768*4"``), digits typed with commas (``154,389,504``), and a torch or numpy
    number. A whole number must be exact; a fraction must be right to float32's precision, or rounded to
    the decimals you type, with at least two significant digits (``0.0039`` for 0.00390625).
    """
    if exercise not in _ANSWERS:
        raise KeyError(f"no self-check for exercise {exercise!r}; there are: {', '.join(sorted(_ANSWERS))}")
    what, compute = _ANSWERS[exercise]
    about = f"Exercise {exercise}, {what}"
    if not answer:
        print(f'{about}: give your answer after the exercise number, for example check_answer("{exercise}", 12345).')
        return
    if len(answer) == 1 and answer[0] is None:
        print(f"{about}: no answer yet. Replace None with your number and run the cell again.")
        return
    expected = compute()
    if len(answer) == 2 and not isinstance(expected, int) and all(isinstance(p, int) for p in answer):
        # check_answer("05.4b", 5,16): a decimal comma, which Python reads as two numbers
        print(f'{about}: for a fraction, type a decimal point: {answer[0]}.{answer[1]}, not {answer[0]},{answer[1]}.')
        return
    value, problem = _parse_answer(answer)
    if problem:
        print(f"{about}: {problem}.")
        return
    right = _is_right(expected, value, answer)
    print(f"{about}: {'correct' if right else 'not yet. Check your working and try again'}.")
