"""draw_arrow_3d(label_at="beyond"): the label sits past the head, on the side away from the arrow."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from embeddings_course.figures import draw_arrow_3d, draw_vectors_3d, new_3d_axes  # noqa: E402


@pytest.fixture
def front_view():
    # Looking along +y: the screen shows x to the right and z upwards.
    fig, ax = new_3d_axes("a title", view=(0, -90))
    for axis in "xyz":
        getattr(ax, f"set_{axis}lim")(-1.5, 1.5)
    yield fig, ax
    plt.close(fig)


def alignment(text):
    return text.get_horizontalalignment(), text.get_verticalalignment()


def test_label_turns_away_from_its_arrow(front_view):
    fig, ax = front_view
    draw_arrow_3d(ax, [0, 0, 0], [1, 0, 1], "#000000", "right, up", label_at="beyond")
    draw_arrow_3d(ax, [0, 0, 0], [-1, 0, -1], "#000000", "left, down", label_at="beyond")
    fig.canvas.draw()
    assert [alignment(t) for t in ax.texts] == [("left", "bottom"), ("right", "top")]
    assert [t.get_text() for t in ax.texts] == ["right, up", "left, down"]


def test_label_follows_the_view_when_the_figure_turns(front_view):
    fig, ax = front_view
    draw_arrow_3d(ax, [0, 0, 0], [1, 0, 1], "#000000", "x", label_at="beyond")
    fig.canvas.draw()
    assert alignment(ax.texts[0]) == ("left", "bottom")
    ax.view_init(elev=0, azim=90)  # from behind: +x now points left on the screen
    fig.canvas.draw()
    assert alignment(ax.texts[0]) == ("right", "bottom")


def test_label_is_shifted_a_few_points_along_the_arrow_on_screen(front_view):
    fig, ax = front_view
    draw_arrow_3d(ax, [0, 0, 0], [1, 0, 0], "#000000", "x", label_at="beyond")
    fig.canvas.draw()
    label = ax.texts[0]
    assert label.get_position_3d() == (1.0, 0.0, 0.0)  # anchored at the head itself
    shifted = label.get_transform().transform((0.0, 0.0)) - ax.transData.transform((0.0, 0.0))
    points = shifted * 72 / fig.dpi
    assert points[0] == pytest.approx(4.0) and points[1] == pytest.approx(0.0, abs=1e-9)


def test_vectors_pass_label_at_on(front_view):
    fig, ax = front_view
    draw_vectors_3d(ax, [[1, 0, 1], [-1, 0, 1]], ["a", "b"], ["#000000", "#000000"], label_at="beyond")
    fig.canvas.draw()
    assert [alignment(t) for t in ax.texts] == [("left", "bottom"), ("right", "bottom")]
