"""The 3D figure kit: arrows, honest limits, one colour per token, and a linear projection to 3D."""

from __future__ import annotations

import math

import torch

# Okabe–Ito, a colour-blind-safe palette; yellow is left out (too faint on white).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
POSITION_COLOUR = "#7F7F7F"  # position vectors: neutral grey, never a token's colour
# For what is not a token (a made-up vector, a training run, a pair of dimensions, a marked point): Paul Tol's
# muted indigo, wine, olive and teal, colour-blind-safe and none of them in PALETTE.
NON_TOKEN_COLOURS = ["#332288", "#882255", "#999933", "#44AA99"]
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
            "figure.hooks": ["embeddings_course.figures:hide_figure_header"],
        }
    )


# Rotatable mode: a drag can turn the box to any orientation (matplotlib's arcball rolls it too). In
# every orientation the tick and axis labels stay within REACH_SCALE * side + REACH_LABELS points + half
# the longest axis label of the centre of the axes box (side: the box's side). Measured over all views
# with the classroom fonts, with a margin; an axis seen end-on stands its label on end, hence the half.
REACH_SCALE = 0.45
REACH_LABELS = 56.0  # points


def _rotatable(fig) -> bool:
    """ipympl's canvas (``%matplotlib widget``): the reader can drag the figure round."""
    return hasattr(fig.canvas, "header_visible")


def hide_figure_header(fig) -> None:
    """Rotatable mode (ipympl): no "Figure 1" bar above the figure; the title says what it is.

    ``use_classroom_style`` runs this on every figure pyplot makes (rcParams["figure.hooks"]).
    """
    if _rotatable(fig):
        fig.canvas.header_visible = False


def _room_to_rotate(fig, column: int, n_columns: int, axis_labels):
    """Where a 3D axes goes in its column so that, in every orientation, the box and its labels stay
    inside the figure and below the title at the top: ``(rect, title_y)``, both in figure fractions."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    def points(text, size):
        return TextPath((0, 0), text, size=size).get_extents().width if text else 0.0

    inch = 1 / 72  # inches per point
    width, height = fig.get_size_inches()
    column_width = width / n_columns
    margin, gap = 4 * inch, 6 * inch
    def font_points(key):
        return FontProperties(size=mpl.rcParams[key]).get_size_in_points()

    title_height = 1.3 * font_points("axes.titlesize") * inch
    label_size = font_points("axes.labelsize")
    labels = (REACH_LABELS + max(points(label, label_size) for label in axis_labels) / 2) * inch
    reach = min(column_width - 2 * margin, height - 2 * margin - gap - title_height) / 2
    side = (reach - labels) / REACH_SCALE
    centre_x, centre_y = (column + 0.5) * column_width, margin + reach
    rect = [(centre_x - side / 2) / width, (centre_y - side / 2) / height, side / width, side / height]
    return rect, (centre_y + reach + gap) / height


def _titled_3d_axes(fig, position, title, axis_labels):
    from matplotlib.transforms import blended_transform_factory

    hide_figure_header(fig)
    if _rotatable(fig):
        # Not a subplot: a colorbar then shrinks this axes about its centre, rather than re-deriving it
        # from a grid; the title's height is in figure fractions, so it stays put.
        rect, title_y = _room_to_rotate(fig, position[2] - 1, position[1], axis_labels)
        ax = fig.add_axes(rect, projection="3d")
        ax.set_title(title, pad=0, verticalalignment="bottom", y=title_y)
        ax.title.set_y(title_y)  # after set_title: a 3D axes' set_title scales y by 0.92
        ax.title.set_transform(blended_transform_factory(ax.transAxes, fig.transFigure))
    else:
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


def _label_beyond_head(start, end, label, **text_kwargs):
    """A label that, each time it is drawn, sits a few points past the arrow's head on screen, its
    box on the side the arrow points to: the arrow never runs through it, from any viewpoint."""
    from matplotlib.transforms import ScaledTranslation
    from mpl_toolkits.mplot3d import art3d, proj3d

    class LabelBeyondHead(art3d.Text3D):
        def draw(self, renderer):
            ax = self.axes
            xs, ys, _ = proj3d.proj_transform(*zip(start, end), ax.M)
            (x0, y0), (x1, y1) = ax.transData.transform(list(zip(xs, ys)))
            dx, dy = x1 - x0, y1 - y0
            length = math.hypot(dx, dy) or 1.0
            gap = 4 / 72  # inches: 4 points from the head, along the arrow
            self.set_horizontalalignment("left" if dx >= 0 else "right")
            self.set_verticalalignment("bottom" if dy >= 0 else "top")
            offset = ScaledTranslation(gap * dx / length, gap * dy / length, self.figure.dpi_scale_trans)
            self.set_transform(ax.transData + offset)
            super().draw(renderer)

    return LabelBeyondHead(*end, label, zdir=None, clip_on=False, **text_kwargs)


def draw_arrow_3d(ax, start, end, colour, label=None, linestyle="-", linewidth=2.0, label_at="head"):
    """One arrow from ``start`` to ``end``, labelled just past its head (or at its ``"middle"``).

    ``label_at="beyond"`` also puts the label past the head, and turns its box away from the arrow
    whenever the figure is drawn (rotated too): use it where arrows point in many directions.
    """
    if label_at not in ("head", "middle", "beyond"):
        raise ValueError(f'label_at must be "head", "middle" or "beyond", got {label_at!r}')
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
    if label is not None and label_at == "beyond":
        ax.add_artist(_label_beyond_head(start, end, label, color=colour, fontsize=11, bbox=LABEL_BOX))
    elif label is not None:
        # On a pale backing, just past the head (never on the arrowhead) or beside the middle.
        if label_at == "head":
            at = [e + 0.08 * d for e, d in zip(end, delta)]
        else:
            at = [s + 0.5 * d for s, d in zip(start, delta)]
        ax.text(*at, label, color=colour, fontsize=11, bbox=LABEL_BOX)
    return arrow


def draw_vectors_3d(ax, vectors, labels, colours, label_at="head"):
    """Arrows from the origin to each row of ``vectors`` (shape (N, 3)); ``label_at`` as in draw_arrow_3d."""
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
    return [draw_arrow_3d(ax, origin, v, c, lab, label_at=label_at) for v, lab, c in zip(vectors, labels, colours)]


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
