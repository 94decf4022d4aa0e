import pytest

import embeddings_course


@pytest.fixture(scope="session")
def tokenizer():
    return embeddings_course.gpt2_tokenizer()


@pytest.fixture(scope="session")
def corpus():
    return embeddings_course.load_corpus()
