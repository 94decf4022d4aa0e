"""The code the notebooks share, one module per audience. Nothing here downloads anything.

Where each piece is taught (that notebook shows its code in full; later notebooks import it):

* ``load_corpus``, ``GPTDatasetV1``, ``create_dataloader_v1`` ......... text ........ 03
* ``inverse_frequencies``, ``sinusoidal_encoding``, ``shift_matrix`` ... positions ... 07
* ``relative_position_bucket``, ``rope_interleaved``, ``rope_half_split`` ... positions ... 08

Used by the notebooks without being taught:

* ``gpt2_tokenizer``: tiktoken's GPT-2 encoding, offline ............... tokenizer
* the 3D figure kit (``new_3d_axes``, ``draw_arrow_3d``, ...) .......... figures
* ``rank_correlation``, ``round_stably``: numbers of the run in 06 ...... stats
* ``fastest_block``: a call's time with torch.utils.benchmark (05 shows it) ... timing
* ``check_answer``: the exercises' self-checks ......................... self_check
"""

from .figures import (
    BACKGROUND_COLOUR,
    LABEL_BOX,
    NON_TOKEN_COLOURS,
    PALETTE,
    POSITION_COLOUR,
    draw_arrow_3d,
    draw_vectors_3d,
    fit_limits_3d,
    new_3d_axes,
    principal_directions,
    project_to_3d,
    side_by_side_3d,
    token_colour,
    use_classroom_style,
)
from .positions import (
    inverse_frequencies,
    relative_position_bucket,
    rope_half_split,
    rope_interleaved,
    shift_matrix,
    sinusoidal_encoding,
)
from .self_check import check_answer
from .stats import average_ranks, rank_correlation, round_stably
from .text import CORPUS_PATH, END_OF_TEXT, GPTDatasetV1, create_dataloader_v1, load_corpus
from .timing import fastest_block
from .tokenizer import gpt2_tokenizer, seed_tiktoken_cache

__all__ = [
    "average_ranks",
    "rank_correlation",
    "round_stably",
    "BACKGROUND_COLOUR",
    "CORPUS_PATH",
    "END_OF_TEXT",
    "GPTDatasetV1",
    "LABEL_BOX",
    "NON_TOKEN_COLOURS",
    "PALETTE",
    "POSITION_COLOUR",
    "check_answer",
    "create_dataloader_v1",
    "draw_arrow_3d",
    "draw_vectors_3d",
    "fastest_block",
    "fit_limits_3d",
    "gpt2_tokenizer",
    "inverse_frequencies",
    "load_corpus",
    "new_3d_axes",
    "principal_directions",
    "project_to_3d",
    "relative_position_bucket",
    "rope_half_split",
    "rope_interleaved",
    "seed_tiktoken_cache",
    "shift_matrix",
    "side_by_side_3d",
    "sinusoidal_encoding",
    "token_colour",
    "use_classroom_style",
]
