"""check_answer: the self-check cells of the exercises."""

import pytest

from embeddings_course.self_check import _ANSWERS, check_answer


def verdict(capsys, exercise, *answer):
    check_answer(exercise, *answer)
    return capsys.readouterr().out


def test_no_answer_yet(capsys):
    assert "no answer yet" in verdict(capsys, "01.2", None)
    assert 'e.g. check_answer("01.2", 12345)' in verdict(capsys, "01.2")


def test_right_and_wrong_answers(capsys):
    assert verdict(capsys, "01.2", 50257 * 768 * 4).endswith(": correct.\n")
    assert "not yet" in verdict(capsys, "01.2", 50257 * 768)


def test_relative_tolerance_accepts_rounded_answers(capsys):
    assert verdict(capsys, "01.2", 154_400_000).endswith(": correct.\n")  # 154,389,504, rounded
    assert "not yet" in verdict(capsys, "01.2", 150_000_000)


def test_an_answer_at_the_printed_precision_is_accepted(capsys, monkeypatch):
    # 2**-8 = 0.00390625 is printed to 4 decimals as 0.0039; 0.0039 is 0.16 % off, beyond rel_tol.
    monkeypatch.setitem(_ANSWERS, "99.1", ("a small ALiBi slope", lambda: 2**-8))
    assert verdict(capsys, "99.1", 0.0039).endswith(": correct.\n")
    assert verdict(capsys, "99.1", "0.0039").endswith(": correct.\n")
    assert "not yet" in verdict(capsys, "99.1", 0.0038)
    # One significant digit is not enough: 0.004 and 0.0 are not accepted for 0.0039.
    assert "not yet" in verdict(capsys, "99.1", 0.004)
    assert "not yet" in verdict(capsys, "99.1", 0.0)
    # 08.3: 2**-0.5 = 0.70710678..., printed as 0.7071; two significant digits are enough.
    assert verdict(capsys, "08.3", 0.7071).endswith(": correct.\n")
    assert verdict(capsys, "08.3", "0.71").endswith(": correct.\n")
    assert "not yet" in verdict(capsys, "08.3", 0.7)
    assert "not yet" in verdict(capsys, "08.3", 0.0039)


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


def test_every_key_computes_a_number():
    for exercise, (_, compute) in _ANSWERS.items():
        value = compute()
        assert isinstance(value, (int, float)) and value > 0, exercise
