"""Embedding backends: each against fp32 torch on real passages, the export cache, and mismatches."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from docsearch.index import Encoder, IndexFolder, IndexMismatch, ModelLoadError, build_index
from docsearch.index.embed import BACKENDS, PREFERENCE, default_backend, supports
from docsearch.search import config as settings
from docsearch.search.engine import Searcher

from .conftest import DOCS_CORPUS, copy_index


@pytest.fixture(scope="module")
def passages(docs_index) -> list[str]:
    """The demo corpus's passages, as the index stores them."""
    from .conftest import stored_passages

    return [p.text for p in stored_passages(docs_index)]


@pytest.fixture(scope="module")
def reference(passages) -> np.ndarray:
    """fp32 torch embeddings of the passages: what every backend is measured against."""
    return Encoder(backend="torch").encode(passages)


def test_cli_and_library_name_the_same_backends():
    assert settings.BACKENDS == tuple(BACKENDS)
    assert set(PREFERENCE) <= set(BACKENDS)
    assert default_backend() in PREFERENCE and supports(default_backend())


@pytest.mark.parametrize("backend, least, mean", [("onnx", 0.9999, 0.99999), ("onnx-int8", 0.97, 0.99)])
def test_onnx_backends_agree_with_fp32_torch(backend, least, mean, passages, reference):
    vectors = Encoder(backend=backend).encode(passages)
    cosines = np.sum(vectors * reference, axis=1)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    assert cosines.min() >= least and cosines.mean() >= mean


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_backends_find_the_same_best_passage(backend, passages, reference):
    questions = ["Which 2008 agreement governs the strategic dialogue?", "Who was killed in the drone strike?",
                 "When will the troops withdraw?", "Qassem Allaji", "Iraqi parliament vote on foreign forces"]
    encoder = Encoder(backend=backend)
    mine = np.argmax(encoder.encode(questions) @ encoder.encode(passages).T, axis=1)
    torch_best = np.argmax(Encoder(backend="torch").encode(questions) @ reference.T, axis=1)
    assert list(mine) == list(torch_best)


def test_bf16_backend_stays_close_to_fp32(passages, reference):
    vectors = Encoder(backend="torch-bf16").encode(passages[:8])
    assert np.sum(vectors * reference[:8], axis=1).min() >= 0.99


def test_onnx_export_is_made_once_and_reused(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="docsearch.index.onnx_backend"):
        first = Encoder(backend="onnx-int8", cache_dir=str(tmp_path)).encode(["the cache is made here"])
    exported = sorted(p.name for p in tmp_path.glob("onnx/*/*.onnx"))
    assert exported == ["model-int8.onnx", "model.onnx"]
    assert sum("exporting" in r.message for r in caplog.records) == 1
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("onnx/*/*.onnx")}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="docsearch.index.onnx_backend"):
        again = Encoder(backend="onnx-int8", cache_dir=str(tmp_path)).encode(["the cache is made here"])
    assert not caplog.records
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert np.array_equal(first, again)
    assert not list(tmp_path.glob("onnx/*/*.tmp*"))  # no half-written files left behind


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ModelLoadError, match="unknown backend 'fp8'; choose one of torch, torch-bf16, onnx, onnx-int8"):
        Encoder(backend="fp8")


def write_model_files(folder, pooling: dict, kinds: tuple[str, ...]) -> None:
    """Write the modules.json and pooling config of a sentence-transformers model folder."""
    modules = [{"idx": i, "name": str(i), "path": "" if i == 0 else f"{i}_{kind}",
                "type": f"sentence_transformers.models.{kind}"} for i, kind in enumerate(kinds)]
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))


@pytest.mark.parametrize(
    "pooling, kinds, refused",
    [
        ({"pooling_mode_mean_tokens": True}, ("Transformer", "Pooling", "Normalize"), None),
        ({"pooling_mode": "mean"}, ("Transformer", "Pooling"), None),
        ({"pooling_mode": "cls"}, ("Transformer", "Pooling"), r"Transformer -> Pooling \(cls\)"),
        # a projection after pooling: the exported graph would leave it out
        ({"pooling_mode_mean_tokens": True}, ("Transformer", "Pooling", "Dense"), r"Pooling -> Dense"),
    ],
)
def test_onnx_refuses_models_that_do_not_mean_pool(tmp_path, pooling, kinds, refused):
    from docsearch.index.onnx_backend import check_mean_pooling

    write_model_files(tmp_path, pooling, kinds)
    if refused is None:
        check_mean_pooling(tmp_path)
    else:
        with pytest.raises(ModelLoadError, match=f"mean-pool.*{refused}.*; use --backend torch"):
            check_mean_pooling(tmp_path)


def test_onnx_backends_serve_without_pytorch(tmp_path):
    """An ONNX encoder reads its model's files and tokenizer itself: a server never loads PyTorch."""
    script = (
        "import sys; from docsearch.index import Encoder; e = Encoder(backend='onnx-int8'); "
        "v = e.encode(['Where are the troops?']); "
        "print(v.shape, e.max_passage_tokens, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    Encoder(backend="onnx-int8")  # exports into the test cache first, if it has no copy yet
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True,
                         cwd=Path(__file__).parent.parent)
    assert run.stdout.split("\n")[0] == "(1, 384) 254 False False"


def test_index_records_its_backend_and_queries_must_use_it(docs_index, encoder):
    assert IndexFolder(docs_index).live_manifest().backend == encoder.backend
    other = "torch" if encoder.backend != "torch" else "onnx"
    with pytest.raises(IndexMismatch, match=f"backend {encoder.backend!r}.*not 'all-MiniLM-L6-v2' on {other!r}"):
        Searcher.load(docs_index, encoder=Encoder(backend=other))
    assert Searcher.load(docs_index).encoder.backend == encoder.backend  # the manifest's backend by default


def test_changing_backend_embeds_everything_again(tmp_path, encoder, docs_index):
    index_dir = copy_index(docs_index, tmp_path / "index")
    other = "torch" if encoder.backend != "torch" else "onnx"
    report = build_index(DOCS_CORPUS, index_dir, encoder=Encoder(backend=other))
    assert report.rebuilt_because == f"settings changed (backend {encoder.backend!r} -> {other!r})"
    assert report.embedded == report.manifest.passages == 67 and report.manifest.backend == other


def test_cli_index_keeps_the_backend_the_index_was_built_with(tmp_path, runner):
    from docsearch.search.cli import cli

    first = runner.invoke(cli, ["index", str(DOCS_CORPUS), "--index-dir", str(tmp_path), "--backend", "torch"])
    assert first.exit_code == 0 and "backend torch, vectors flat" in first.output
    again = runner.invoke(cli, ["index", str(DOCS_CORPUS), "--index-dir", str(tmp_path)])
    assert again.exit_code == 0 and "nothing changed" in again.output and "backend torch" in again.output
    serve = runner.invoke(cli, ["serve", "--index-dir", str(tmp_path), "--backend", "onnx", "--port", "1"])
    assert serve.exit_code == 1
    assert "built with backend 'torch'; queries must use the same one" in serve.output


def test_a_query_alone_runs_on_every_core_and_concurrent_ones_on_one_each():
    embedder = Encoder(backend="onnx-int8")._onnx
    if embedder.wide is None:
        pytest.skip("one core: there is no wide session")
    used = []
    for name in ("session", "wide"):
        session = getattr(embedder, name)
        setattr(embedder, name, type("Recording", (), {
            "run": lambda self, *args, _s=session, _n=name: used.append(_n) or _s.run(*args),
        })())
    alone = embedder(["a query on an idle server"])
    with embedder.serving(), embedder.serving():  # two requests in flight
        crowded = embedder(["a query on an idle server"])
    assert used == ["wide", "session"]
    assert np.allclose(alone, crowded, atol=1e-5)  # the same vector either way
