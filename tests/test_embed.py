"""Embedding and the vector index: unit vectors, batching, FAISS against brute force."""

from pathlib import Path

import numpy as np
import pytest

from docsearch.index import Encoder, ModelLoadError


def test_vectors_are_unit_length_float32(encoder):
    vectors = encoder.encode(["a short one", "a somewhat longer sentence about rivers and lakes", "x"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_length_ordered_batches_keep_each_row_with_its_text(encoder):
    texts = [f"sentence number {i} " + "about the sea " * (i % 7) for i in range(40)]
    together = encoder.encode(texts, batch_size=8)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    assert np.min(np.sum(together * alone, axis=1)) >= 0.9999


def test_empty_input_gives_no_rows(encoder):
    assert encoder.encode([]).shape == (0, 384)


def test_faiss_top_k_matches_numpy_brute_force(searcher):
    store = searcher.generation.vectors
    stored = store.vectors(range(1, store.count() + 1))
    for question in ["troop withdrawal timetable", "Suleimani drone strike", "Strategic Framework Agreement"]:
        query = searcher.encoder.encode([question])
        expected_scores = stored @ query[0]
        expected = np.argsort(-expected_scores, kind="stable")[:10] + 1
        found = store.search(query, 10)[0]
        assert [pid for pid, _ in found] == list(expected)
        assert np.allclose([score for _, score in found], expected_scores[expected - 1], atol=1e-5)


def test_unknown_model_name_is_a_one_line_error():
    with pytest.raises(ModelLoadError) as info:
        Encoder("no-such-model-anywhere")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("cannot load model 'no-such-model-anywhere'")
    assert "no model hub is reachable" in message


def test_model_by_local_folder(encoder):
    from docsearch.index.embed import resolve_model

    by_path = Encoder(resolve_model("all-MiniLM-L6-v2"))
    assert by_path.dimension == 384
    text = ["the same text either way"]
    assert float(by_path.encode(text)[0] @ encoder.encode(text)[0]) > 0.9999


def test_word_pieces_equal_the_transformers_tokenizer():
    """index.pieces reads tokenizer.json without transformers (and PyTorch); its pieces must be the same."""
    from transformers import AutoTokenizer

    from docsearch.index.embed import resolve_model
    from docsearch.index.pieces import WordPieces

    from .conftest import DOCS_CORPUS

    folder = Path(resolve_model("all-MiniLM-L6-v2"))
    reference = AutoTokenizer.from_pretrained(str(folder))
    pieces = WordPieces.from_folder(folder, 256)
    texts = [p.read_text(encoding="utf-8") for p in sorted(DOCS_CORPUS.iterdir())]  # long: truncated to 256
    texts += ["", "  leading space", "Café naïve 東京 🎉 <script>", "Strategic Framework Agreement (2008)"]
    for text in texts:
        expected = reference(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        assert pieces.starts(text) == [start for start, _ in expected["offset_mapping"]]
    assert pieces.lengths(texts) == [len(ids) for ids in reference(texts, add_special_tokens=False, verbose=False)["input_ids"]]
    fed = reference(texts, padding=True, truncation=True, max_length=256, return_tensors="np")
    batch = pieces.batch(texts)
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        assert batch[name].tolist() == fed[name].tolist(), name
    assert pieces.special_tokens == reference.num_special_tokens_to_add(pair=False) == 2
