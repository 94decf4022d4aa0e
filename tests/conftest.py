import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "notebooks"))

import embedding_helpers  # noqa: E402


@pytest.fixture(scope="session")
def tokenizer():
    return embedding_helpers.gpt2_tokenizer()


@pytest.fixture(scope="session")
def corpus():
    return embedding_helpers.load_corpus()
