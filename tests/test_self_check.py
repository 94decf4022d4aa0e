"""check_answer: the self-check cells of the exercises."""

import pytest

from embedding_helpers import _ANSWERS, check_answer


def verdict(capsys, exercise, answer):
    check_answer(exercise, answer)
    return capsys.readouterr().out


def test_no_answer_yet(capsys):
    assert "no answer yet" in verdict(capsys, "01.2", None)


def test_right_and_wrong_answers(capsys):
    assert verdict(capsys, "01.2", 50257 * 768 * 4).endswith(": correct.\n")
    assert "not yet" in verdict(capsys, "01.2", 50257 * 768)


def test_relative_tolerance_accepts_rounded_answers(capsys):
    assert verdict(capsys, "03.3", 306.7).endswith(": correct.\n")  # 306.74 MiB, rounded
    assert "not yet" in verdict(capsys, "03.3", 300.0)


def test_unknown_exercise_and_non_numbers_are_refused():
    with pytest.raises(KeyError, match="no self-check for exercise '99.9'"):
        check_answer("99.9", 1)
    with pytest.raises(TypeError, match="must be a number"):
        check_answer("01.2", "154389504")


def test_every_key_computes_a_number():
    for exercise, (what, compute) in _ANSWERS.items():
        value = compute()
        assert isinstance(value, (int, float)) and value > 0, exercise
