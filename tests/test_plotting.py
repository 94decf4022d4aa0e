"""The 3D plotting helpers, on the Agg backend: what is drawn, and limits that fit the data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from embeddings_course.figures import (  # noqa: E402
    NON_TOKEN_COLOURS,
    PALETTE,
    POSITION_COLOUR,
    draw_arrow_3d,
    draw_vectors_3d,
    fit_limits_3d,
    new_3d_axes,
    project_to_3d,
    token_colour,
)


@pytest.fixture
def axes():
    fig, ax = new_3d_axes("a title", axis_labels=("x", "y", "z"))
    yield ax
    plt.close(fig)


def test_new_axes_has_title_and_labels(axes):
    assert axes.get_title() == "a title"
    assert (axes.get_xlabel(), axes.get_ylabel(), axes.get_zlabel()) == ("x", "y", "z")


def test_one_arrow_and_one_label_per_vector(axes):
    vectors = torch.tensor([[1.0, 0, 0], [0, 2.0, 0], [0, 0, -3.0]])
    arrows = draw_vectors_3d(axes, vectors, ["0", "1", "2"], [token_colour(i) for i in range(3)])
    assert len(arrows) == 3
    assert len(axes.collections) == 3
    assert [t.get_text().strip() for t in axes.texts] == ["0", "1", "2"]
    assert [t.get_color() for t in axes.texts] == PALETTE[:3]


def test_arrow_without_label_draws_no_text(axes):
    draw_arrow_3d(axes, [1, 1, 1], [2, 2, 2], "#000000")
    assert len(axes.collections) == 1
    assert len(axes.texts) == 0


def test_mismatched_labels_are_refused(axes):
    with pytest.raises(ValueError, match="one label and one colour per vector"):
        draw_vectors_3d(axes, torch.zeros(2, 3), ["only one"], ["#000000", "#000000"])


def test_vectors_must_be_three_dimensional(axes):
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        draw_vectors_3d(axes, torch.zeros(2, 4), ["a", "b"], ["#000000"] * 2)


def test_limits_contain_the_data_and_the_origin_with_equal_ranges(axes):
    points = torch.tensor([[0.3374, -0.1778, -0.1690], [-2.8400, -0.7849, -1.4096], [1.2753, 1.5810, 1.3010]])
    fit_limits_3d(axes, points)
    limits = [axes.get_xlim(), axes.get_ylim(), axes.get_zlim()]
    for dim, (low, high) in enumerate(limits):
        assert low <= min(0.0, points[:, dim].min().item())
        assert high >= max(0.0, points[:, dim].max().item())
    widths = [high - low for low, high in limits]
    assert max(widths) == pytest.approx(min(widths))
    # Fitted, not padded far beyond the data: the widest spread (x: 4.1153) plus the 15% margin.
    assert widths[0] == pytest.approx((1.2753 + 2.8400) * 1.15, rel=1e-5)


def test_non_token_colours_are_neither_token_colours_nor_grey():
    assert not set(NON_TOKEN_COLOURS) & set(PALETTE)
    assert POSITION_COLOUR not in NON_TOKEN_COLOURS and len(set(NON_TOKEN_COLOURS)) == len(NON_TOKEN_COLOURS)


def test_token_colour_is_stable_and_from_the_palette():
    assert token_colour(3) == token_colour(3 + len(PALETTE))
    assert {token_colour(i) for i in range(50)} == set(PALETTE)
    assert "#F0E442" not in PALETTE  # Okabe-Ito yellow is too faint on white


def test_projection_keeps_data_that_already_lies_in_three_dimensions():
    torch.manual_seed(0)
    coords = torch.randn(20, 3) * torch.tensor([3.0, 2.0, 1.0])
    basis, _ = torch.linalg.qr(torch.randn(16, 3))  # an orthonormal 3D subspace of 16D
    vectors = coords @ basis.T
    projected, share = project_to_3d(vectors)
    assert projected.shape == (20, 3)
    assert share.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert share[0] >= share[1] >= share[2]
    # A projection onto the data's own subspace keeps every pairwise distance.
    assert torch.allclose(torch.cdist(projected, projected), torch.cdist(vectors, vectors), atol=1e-4)


def test_projection_is_deterministic_and_sign_fixed():
    torch.manual_seed(1)
    vectors = torch.randn(10, 8)
    first, _ = project_to_3d(vectors)
    second, _ = project_to_3d(vectors.clone())
    assert torch.equal(first, second)
    flipped, _ = project_to_3d(-vectors)  # same cloud, mirrored: same picture after the sign fix
    assert torch.allclose(flipped.abs(), first.abs(), atol=1e-5)


def test_projection_needs_enough_data():
    with pytest.raises(ValueError, match="at least 2 vectors"):
        project_to_3d(torch.zeros(1, 5))


def test_projection_is_linear_so_sums_survive():
    torch.manual_seed(2)
    token, position = torch.randn(2, 32)
    stacked = torch.stack([token, position, token + position])
    projected, _ = project_to_3d(stacked)
    assert torch.allclose(projected[0] + projected[1], projected[2], atol=1e-5)


def test_label_in_the_middle_of_an_arrow(axes):
    draw_arrow_3d(axes, [1.0, 0, 0], [3.0, 2.0, 0], "#000000", "+ position", label_at="middle")
    x, y, z = axes.texts[0]._x, axes.texts[0]._y, axes.texts[0]._z
    assert (x, y, z) == (2.0, 1.0, 0.0)


def test_label_position_must_be_head_or_middle(axes):
    with pytest.raises(ValueError, match="label_at"):
        draw_arrow_3d(axes, [0, 0, 0], [1, 1, 1], "#000000", "x", label_at="tail")


def test_side_by_side_axes_have_their_titles():
    from embeddings_course.figures import side_by_side_3d

    fig, axes = side_by_side_3d(["one-hot ids", "embedding rows"])
    try:
        assert [ax.get_title() for ax in axes] == ["one-hot ids", "embedding rows"]
        assert all(ax.name == "3d" for ax in axes)
        assert fig.get_size_inches()[0] == pytest.approx(13.0)
    finally:
        plt.close(fig)


def test_principal_directions_are_orthonormal_and_find_the_spread():
    from embeddings_course.figures import principal_directions

    torch.manual_seed(3)
    moves = torch.zeros(10, 8)
    moves[:, 5] = torch.randn(10) * 10  # all the spread is along dimension 5
    moves += torch.randn(10, 8) * 0.01
    directions, share = principal_directions(moves)
    assert directions.shape == (3, 8)
    assert torch.allclose(directions @ directions.T, torch.eye(3), atol=1e-5)
    assert directions[0].abs().argmax().item() == 5 and directions[0, 5] > 0
    assert share[0] > 0.99
