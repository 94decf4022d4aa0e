"""check_answer: the self-check cells of the exercises judge answers right, however they are typed."""

import numpy as np
import pytest
import torch

from embeddings_course.self_check import _ANSWERS, check_answer

XL = 1_557_611_200  # GPT-2 XL, as 05's solutions count it

# For every self-check: the answers that must pass, and the likely wrong ones that must fail, each with the
# mistake it stands for. The right values here are worked out by hand from the notebooks' printed numbers
# (the corpus has 5,368 tokens: 03 §3.3), independently of self_check.py.
TABLE = {
    "01.2": ([154389504, "154,389,504", "50257*768*4"], {
        "off by one": [154389503, 154389505], "parameters, not bytes": [38597376],
        "float64's 8 bytes": [308779008], "float16's 2 bytes": [77194752], "rounded": [154_400_000]}),
    "03.1": ([5364, "5,364"], {
        "off by one": [5363], "no room for the last target": [5365], "one window per token": [5368],
        "stride 4's count": [1341]}),
    "03.2": ([10], {"off by one": [9, 11], "windows, not batches": [40]}),
    "03.3a": ([1787], {"rounded down, not up": [1786], "off by one": [1788], "stride 2's count": [2680]}),
    "03.3b": ([223], {"off by one": [222, 224], "windows, not batches": [1787], "the partial batch too": [224]}),
    "03.3c": ([3], {"off by one": [2, 4], "none": [0], "a whole batch": [8], "the windows kept": [1784]}),
    "04.1a": ([1], {"off by one": [0, 2], "one per position": [4]}),
    "04.1b": ([4], {"off by one": [3, 5], "one token, one vector": [1]}),
    "04.2": ([512, "256 + 256"], {"off by one": [511, 513], "unchanged width": [256], "three tables": [768]}),
    "05.2": ([769], {"tokens >= d": [768], "off by one": [770], "the int64 reading": [385, 384]}),
    "05.4a": ([XL, "1,557,611,200"], {
        "off by one": [XL - 1, XL + 1], "no q, k, v biases (the book's)": [XL - 48 * 3 * 1600],
        "no final layer norm": [XL - 2 * 1600], "no position table": [XL - 1024 * 1600],
        "untied output layer": [XL + 50257 * 1600]}),
    "05.4b": ([5.2, "5.2%", 5.16, "5.162"], {
        "a fraction, not percent": [0.052], "rounded wrongly": [5.1, 5.3, 5.0],
        "untied output layer": [4.9, 4.91], "one significant digit": [5]}),
    "07.1": ([6], {"counted from 1": [7], "off by one": [5], "the first place": [0]}),
    "08.1": ([3], {"off by one": [2, 4], "K = 2's count": [5]}),
    "08.3a": ([0.7071, "0.71", 0.70711, "2**-0.5", 2**-0.5], {
        "the 8 heads' largest": [0.5], "rounded wrongly": [0.70, 0.7072, 0.7], "the smallest": [0.0039]}),
    "08.3b": ([8], {"off by one": [7, 9], "all of them": [16], "none": [0]}),
}


def verdict(capsys, exercise, *answer):
    check_answer(exercise, *answer)
    return capsys.readouterr().out


def test_the_table_covers_every_self_check():
    assert sorted(TABLE) == sorted(_ANSWERS)


@pytest.mark.parametrize(
    "exercise, answer", [(e, a) for e, (right, _) in TABLE.items() for a in right], ids=lambda x: str(x)
)
def test_right_answers_pass(capsys, exercise, answer):
    assert verdict(capsys, exercise, answer).endswith(": correct.\n")


@pytest.mark.parametrize(
    "exercise, mistake, answer",
    [(e, m, a) for e, (_, wrong) in TABLE.items() for m, answers in wrong.items() for a in answers],
    ids=lambda x: str(x),
)
def test_likely_wrong_answers_fail(capsys, exercise, mistake, answer):
    assert "not yet. Check your working and try again." in verdict(capsys, exercise, answer), mistake


def test_no_answer_yet_and_no_answer_at_all(capsys):
    assert verdict(capsys, "01.2", None) == (
        "Exercise 01.2, the bytes of GPT-2 small's token table in float32: no answer yet. "
        "Replace None with your number and run the cell again.\n"
    )
    assert 'for example check_answer("01.2", 12345).' in verdict(capsys, "01.2")


@pytest.mark.parametrize(
    "answer",
    [torch.tensor(5364), torch.tensor([5364]), np.int64(5364), np.array(5364), np.float32(5364)],
    ids=["0-d tensor", "1-element tensor", "numpy int64", "0-d array", "numpy float32"],
)
def test_a_torch_or_numpy_number_holding_the_right_value_passes(capsys, answer):
    assert verdict(capsys, "03.1", answer).endswith(": correct.\n")


def test_a_float32_tensor_of_a_fraction_passes(capsys):
    slopes = torch.tensor([2 ** (-8 * h / 16) for h in range(1, 17)])  # float32, as 08 §8.5 builds slopes
    assert verdict(capsys, "08.3a", slopes.max()).endswith(": correct.\n")
    assert verdict(capsys, "08.3a", slopes.max().item()).endswith(": correct.\n")


@pytest.mark.parametrize("answer", [(5, 16), ("5,16",), ("5,1625",)], ids=["typed", "in quotes", "four decimals"])
def test_a_decimal_comma_gets_told_to_use_a_decimal_point(capsys, answer):
    out = verdict(capsys, "05.4b", *answer)
    assert "type a decimal point" in out and out.count("\n") == 1


def test_a_tensor_of_several_numbers_is_refused_with_what_to_type(capsys):
    out = verdict(capsys, "03.1", torch.tensor([5364, 1]))
    assert "type one number, not a Tensor of 2 numbers" in out and out.count("\n") == 1


@pytest.mark.parametrize(
    "answer",
    [(154389504,), ("154,389,504",), ("154 389 504",), ("50257*768*4",), ("50257 × 768 × 4",), (154, 389, 504)],
    ids=["int", "string with commas", "string with spaces", "arithmetic", "times sign", "typed with commas"],
)
def test_the_ways_a_learner_types_a_number_are_accepted(capsys, answer):
    assert verdict(capsys, "01.2", *answer).endswith(": correct.\n")


@pytest.mark.parametrize(
    "answer, message",
    [
        (("about 150 million",), "could not read 'about 150 million' as a number"),
        (("__import__('os')",), "could not read"),
        ((154, 3890, 504), "type one number: without commas"),
        ((True,), "not True or False"),
        (([1, 2],), "not a list"),
    ],
)
def test_what_cannot_be_read_gets_one_line_that_says_what_to_type(capsys, answer, message):
    out = verdict(capsys, "01.2", *answer)
    assert message in out and out.count("\n") == 1


def test_an_unknown_exercise_is_refused_with_the_list():
    with pytest.raises(KeyError, match="no self-check for exercise '99.9'; there are: 01.2"):
        check_answer("99.9", 1)


def test_every_message_reads_as_one_sentence_without_nested_parentheses(capsys):
    for exercise in _ANSWERS:
        out = verdict(capsys, exercise, None)
        assert out.startswith(f"Exercise {exercise}, ") and "((" not in out and "))" not in out
