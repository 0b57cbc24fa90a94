"""Incremental sync, the writer lock and integrity checks on load."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from docsearch.index import BuildOptions, IndexFolder, build_index
from docsearch.index.errors import IndexBusy, IndexCorrupt
from docsearch.index.faiss_vectors import VECTORS_NAME
from docsearch.index.lock import IndexLock
from docsearch.search.cli import cli
from docsearch.search.engine import Searcher

from .conftest import DOCS_CORPUS


@pytest.fixture()
def corpus(tmp_path):
    """A private copy of the demo corpus to change."""
    target = tmp_path / "corpus"
    shutil.copytree(DOCS_CORPUS, target)
    return target


def stored(index_dir):
    """Return {(source, number): (text, start, end, vector)} of the live generation."""
    generation = IndexFolder(index_dir).open_live()
    try:
        found = {}
        for f in generation.catalog.files():
            passages = generation.catalog.file_passages(f.id)
            vectors = generation.vectors.vectors([p.id for p in passages])
            found.update({(p.source, p.number): (p.text, p.start, p.end, v) for p, v in zip(passages, vectors)})
        return found
    finally:
        generation.close()


def test_sync_embeds_only_what_changed(corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"
    first = build_index(corpus, index_dir, encoder=encoder)
    assert (len(first.added), first.unchanged, first.written) == (5, 0, True)
    before = stored(index_dir)

    again = build_index(corpus, index_dir, encoder=encoder)
    assert (again.added, again.changed, again.removed, again.unchanged, again.written) == ([], [], [], 5, False)
    assert again.manifest.generation == 1

    with (corpus / "001_ad77f350f41513dd.txt").open("a", encoding="utf-8") as f:
        f.write("A new closing paragraph about the embassy in Baghdad and its security arrangements.\n")
    (corpus / "new.md").write_text("# Notes\nA brand new file about desert logistics and the supply of bases in Anbar province.\n")
    (corpus / "003_85466fba3cc1c82f.txt").unlink()
    sync = build_index(corpus, index_dir, encoder=encoder)
    assert (sync.added, sync.changed, sync.removed, sync.unchanged) == (
        ["new.md"], ["001_ad77f350f41513dd.txt"], ["003_85466fba3cc1c82f.txt"], 3)
    assert sync.manifest.generation == 2 and sync.rebuilt_because is None
    after = stored(index_dir)
    changed = [key for key in after if key[0] in ("new.md", "001_ad77f350f41513dd.txt")]
    old_texts = {text for text, *_ in before.values()}
    # Only text the live index did not hold is embedded: the changed file's other paragraphs keep their vectors.
    assert sync.embedded == sum(1 for key in changed if after[key][0] not in old_texts) >= 2
    assert sync.reused == sum(1 for key in changed if after[key][0] in old_texts) > 0
    assert sync.embedded + sync.reused + sync.repeated == len(changed)
    for key in changed:
        if after[key][0] in old_texts:
            same = next(v for t, *_, v in before.values() if t == after[key][0])
            assert np.array_equal(after[key][3], same)
    for key, (text, start, end, vector) in after.items():
        if key[0] in ("000_2d31320dcd4f2c91.txt", "002_7722c8300aa7d025.txt", "004_68f2a8bcaf0079e8.txt"):
            assert before[key][:3] == (text, start, end)
            assert np.array_equal(before[key][3], vector)  # reused, not embedded again
    assert not any(key[0] == "003_85466fba3cc1c82f.txt" for key in after)

    full = tmp_path / "full"
    build_index(corpus, full, BuildOptions(full=True), encoder=encoder)
    rebuilt = stored(full)
    assert sorted(rebuilt) == sorted(after)
    for key, (text, start, end, vector) in rebuilt.items():
        assert after[key][:3] == (text, start, end)
        assert float(after[key][3] @ vector) > 0.9999


def test_changed_settings_rebuild_everything(workspace, encoder):
    corpus, index_dir = workspace
    report = build_index(corpus, index_dir, BuildOptions(min_words=3), encoder=encoder)
    assert report.written and report.unchanged == 0 and len(report.added) == 5
    assert report.rebuilt_because == "settings changed (min_words 10 -> 3)"
    assert report.manifest.min_words == 3


def test_manifest_records_the_corpus_folder_and_a_move_rewrites_it_without_embedding(workspace, tmp_path, encoder):
    corpus, index_dir = workspace
    assert build_index(corpus, index_dir, encoder=encoder).manifest.corpus == str(corpus.resolve())
    moved = shutil.move(corpus, tmp_path / "moved")
    report = build_index(moved, index_dir, encoder=encoder)
    assert report.written and report.embedded == 0 and report.unchanged == 5
    assert report.manifest.corpus == str(Path(moved).resolve()) and report.manifest.generation == 2


def test_a_second_writer_is_refused_at_once(workspace, encoder, runner):
    corpus, index_dir = workspace
    with IndexLock(index_dir):
        with pytest.raises(IndexBusy, match="is busy"):
            build_index(corpus, index_dir, encoder=encoder)
        result = runner.invoke(cli, ["index", str(corpus), "--index-dir", str(index_dir)])
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines()[-1] == (
            f"Error: index at {index_dir} is busy: another docsearch process is writing it")
    (corpus / "new.txt").write_text("A new file about convoys on the desert road to the border crossing.\n")
    assert build_index(corpus, index_dir, encoder=encoder).written  # free again once released


def test_damaged_data_file_is_refused_on_load_and_rebuilt(workspace, encoder):
    corpus, index_dir = workspace
    with (IndexFolder(index_dir).live_folder() / VECTORS_NAME).open("ab") as f:
        f.write(b"\0")
    with pytest.raises(IndexCorrupt, match="does not match its manifest"):
        Searcher.load(index_dir, encoder=encoder)
    report = build_index(corpus, index_dir, encoder=encoder)
    assert report.rebuilt_because.startswith("the index is damaged")
    assert Searcher.load(index_dir, encoder=encoder).manifest.generation == 2


def test_cli_prints_sync_counts(workspace, runner):
    corpus, index_dir = workspace
    (corpus / "000_2d31320dcd4f2c91.txt").unlink()
    result = runner.invoke(cli, ["index", str(corpus), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "added 0, changed 0, removed 1, unchanged 4 files; embedded 0 passages\n" in result.stdout
    assert "(generation 2, model all-MiniLM-L6-v2, backend onnx-int8, vectors flat)" in result.stdout
    again = runner.invoke(cli, ["index", str(corpus), "--index-dir", str(index_dir)])
    assert "nothing changed; generation 2 is current" in again.stdout


def test_a_moved_or_copied_file_is_not_embedded_again(workspace, encoder, runner):
    corpus, index_dir = workspace
    (corpus / "archive").mkdir()
    shutil.move(corpus / "000_2d31320dcd4f2c91.txt", corpus / "archive" / "moved.txt")
    shutil.copy(corpus / "001_ad77f350f41513dd.txt", corpus / "archive" / "copy-a.txt")
    shutil.copy(corpus / "001_ad77f350f41513dd.txt", corpus / "archive" / "copy-b.txt")
    before = {text: vector for text, *_, vector in stored(index_dir).values()}
    report = build_index(corpus, index_dir, encoder=encoder)
    assert report.embedded == 0 and report.repeated == 0
    assert report.reused == report.fresh == sum(1 for key in stored(index_dir) if key[0].startswith("archive/")) > 0
    for (path, _), (text, *_, vector) in stored(index_dir).items():
        assert np.array_equal(vector, before[text]), path  # the very vectors the index held
    # Two copies of a new file in one build: each text embedded once.
    for name in ("a.txt", "b.txt"):
        (corpus / "archive" / name).write_text("Dust storms grounded the supply flights to the northern bases for a week.\n"
                                               "Engineers rebuilt the runway lights while the convoys waited.\n")
    result = runner.invoke(cli, ["index", str(corpus), "--index-dir", str(index_dir)])
    assert "embedded 1 passages (and 1 not embedded again, 50%: 0 already in the index, 1 repeated in these files)" \
        in result.stdout, result.output
