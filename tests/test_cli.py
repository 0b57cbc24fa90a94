"""The docsearch command: index, query, errors as one line, a light --help."""

import json
import subprocess
import sys

from docsearch.search.cli import cli

QUESTION = "Which 2008 agreement governs the strategic dialogue?"


def test_index_prints_counts_and_skipped_files(runner, test_corpus, tmp_path):
    result = runner.invoke(cli, ["index", str(test_corpus), "--index-dir", str(tmp_path / "idx")])
    assert result.exit_code == 0, result.output
    assert ("added 6, changed 0, removed 0, unchanged 0 files; embedded 17 passages (and 1 not embedded again, 6%: "
            "0 already in the index, 1 repeated in these files)") in result.stdout  # a paragraph two files share
    assert "indexed 6 files, 18 passages, skipped 7 files" in result.stdout
    assert "skipped 'binary.txt': binary file (contains NUL bytes)" in result.stderr
    assert "skipped 'outside_link.txt': symlink leads outside the corpus folder" in result.stderr
    assert (tmp_path / "idx" / "CURRENT").is_file()


def test_query_json_ranks_file_004_first(runner, docs_index):
    result = runner.invoke(cli, ["query", QUESTION, "-k", "2", "--json", "--index-dir", str(docs_index)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["k"] == 2 and len(body["results"]) == 2
    assert body["results"][0]["source"] == "004_68f2a8bcaf0079e8.txt"


def test_query_text_output(runner, docs_index):
    result = runner.invoke(cli, ["query", QUESTION, "-k", "1"], env={"DOCSEARCH_INDEX_DIR": str(docs_index)})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[-1] == "004_68f2a8bcaf0079e8.txt:10"
    assert "Strategic Framework Agreement" in result.stdout


def test_query_without_index_is_a_one_line_error(runner, tmp_path):
    result = runner.invoke(cli, ["query", "Iraq", "--index-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: no index at {tmp_path}; run `docsearch index` to build one"


def test_bad_k_and_blank_question_are_usage_errors(runner, docs_index):
    assert runner.invoke(cli, ["query", "Iraq", "-k", "0", "--index-dir", str(docs_index)]).exit_code == 2
    blank = runner.invoke(cli, ["query", "  ", "--index-dir", str(docs_index)])
    assert blank.exit_code == 2 and "QUESTION is blank" in blank.stderr


def test_unknown_model_is_a_one_line_error(runner, tmp_path):
    result = runner.invoke(cli, ["index", "--model", "no-such-model", "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot load model 'no-such-model'")
    assert "Traceback" not in result.output


def test_missing_corpus_is_a_one_line_error(runner, tmp_path):
    result = runner.invoke(cli, ["index", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == f"Error: corpus folder not found: {tmp_path / 'nope'}"


def test_help_does_not_import_torch_or_faiss():
    code = "import sys; from docsearch.search.cli import cli; print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    help_text = subprocess.run([sys.executable, "-m", "docsearch.search", "--help"], capture_output=True, text=True, check=True).stdout
    assert "index" in help_text and "query" in help_text and "serve" in help_text


def test_index_output_has_no_library_debug_lines(tmp_path):
    """bm25s sets its logger to DEBUG; a command's output shows warnings and up, and its own lines."""
    from .conftest import DOCS_CORPUS

    run = subprocess.run([sys.executable, "-m", "docsearch.search", "index", str(DOCS_CORPUS), "--index-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, check=True)
    assert "indexed 5 files" in run.stdout
    assert "DEBUG" not in run.stderr, run.stderr
