"""The index folder: manifest, generations, consistency checks and clear errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from docsearch.index import BuildOptions, IndexFolder, IndexMismatch, IndexNotFound, build_index
from docsearch.index.catalog import DB_NAME
from docsearch.index.faiss_vectors import VECTORS_NAME
from docsearch.index.generation import CURRENT
from docsearch.index.lexical import LEXICAL_DIR
from docsearch.index.lexical import SETTINGS as LEXICAL_SETTINGS
from docsearch.index.manifest import MANIFEST_NAME
from docsearch.search.engine import Searcher


def current_generation(index_dir: Path) -> Path:
    """Return the live generation's folder."""
    return IndexFolder(index_dir).live_folder()

from .conftest import DOCS_CORPUS


def test_manifest_describes_the_index(docs_index):
    folder = current_generation(docs_index)
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    catalog = IndexFolder(docs_index).open_live().catalog
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["format_version"] == 4
    assert manifest["lexical"] == LEXICAL_SETTINGS
    lexical = sorted(f"{LEXICAL_DIR}/{p.name}" for p in (current_generation(docs_index) / LEXICAL_DIR).iterdir())
    assert sorted(manifest["checksums"]) == sorted([DB_NAME, VECTORS_NAME, *lexical])
    assert manifest["files"] == 5 == len(catalog.files())
    assert manifest["passages"] == catalog.passage_count()
    assert manifest["skipped"] == 0
    assert len(manifest["corpus_fingerprint"]) == 64
    assert manifest["built_at"].endswith("+00:00")


def test_index_folder_holds_no_pickle(docs_index):
    folder = current_generation(docs_index)
    assert sorted(p.name for p in folder.iterdir()) == sorted([DB_NAME, LEXICAL_DIR, VECTORS_NAME, MANIFEST_NAME])
    stored = sorted(p.name for p in (folder / LEXICAL_DIR).iterdir())
    assert {Path(name).suffix for name in stored} == {".npy", ".json"}, stored
    for name in stored:
        if name.endswith(".npy"):
            np.load(folder / LEXICAL_DIR / name, allow_pickle=False)  # raises if it needed pickle
    assert sorted(p.name for p in docs_index.iterdir()) == [CURRENT, "LOCK", folder.name]


def test_rebuild_makes_a_new_generation_and_keeps_one_before_it(tmp_path, encoder, test_corpus):
    for expected in (1, 2, 3):
        report = build_index(test_corpus, tmp_path, BuildOptions(full=True), encoder=encoder)
        assert report.manifest.generation == expected
        assert (tmp_path / CURRENT).read_text().strip() == f"gen-{expected:06d}"
    assert sorted(p.name for p in tmp_path.glob("gen-*")) == ["gen-000002", "gen-000003"]
    assert report.manifest.files == 6 and report.manifest.skipped == 7


def test_same_corpus_same_fingerprint(tmp_path, encoder, docs_index):
    again = build_index(DOCS_CORPUS, tmp_path, BuildOptions(full=True), encoder=encoder)
    first = json.loads((current_generation(docs_index) / MANIFEST_NAME).read_text())
    assert again.manifest.corpus_fingerprint == first["corpus_fingerprint"]


def test_missing_index_is_a_clear_error(tmp_path, encoder):
    with pytest.raises(IndexNotFound, match="no index at .*; run `docsearch index`"):
        Searcher.load(tmp_path, encoder=encoder)


def test_generation_without_manifest_is_incomplete(tmp_path, encoder):
    (tmp_path / "gen-000001").mkdir()
    (tmp_path / CURRENT).write_text("gen-000001\n")
    with pytest.raises(IndexNotFound, match="incomplete"):
        Searcher.load(tmp_path, encoder=encoder)


@pytest.mark.parametrize(
    "field, change, message",
    [
        ("model", lambda value: "some-other-model", "built with model 'some-other-model'"),
        ("dimension", lambda value: 768, "384-dimensional vectors.*holds 768"),
        ("passages", lambda value: value + 1, "inconsistent"),
        ("format_version", lambda value: 99, "format version 99"),
    ],
    ids=["model", "dimension", "count", "format-version"],
)
def test_manifest_mismatch_is_a_clear_error(tmp_path, docs_index, encoder, field, change, message):
    from .conftest import copy_index

    index_dir = copy_index(docs_index, tmp_path / "index")
    manifest_path = current_generation(index_dir) / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest[field] = change(manifest[field])
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match=message):
        Searcher.load(index_dir, encoder=encoder)
