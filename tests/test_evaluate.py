"""`docsearch eval`: metrics computed by hand, and a tiny BEIR dataset end to end."""

import json
import math

import pytest

from docsearch.search.cli import cli
from docsearch.search.evaluate import DatasetError, load_dataset, mrr_at, ndcg_at, recall_at


def test_ndcg_by_hand():
    ranked = ["d1", "d2", "d3", "d4"]
    relevant = {"d2": 1, "d3": 1, "d9": 1}
    dcg = 1 / math.log2(3) + 1 / math.log2(4)  # hits at ranks 2 and 3
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three relevant documents at ranks 1-3
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at(ranked, relevant, 10) == pytest.approx(0.5307, abs=1e-4)
    assert ndcg_at(["d2", "d3", "d9"], relevant, 10) == pytest.approx(1.0)
    assert ndcg_at(ranked, relevant, 1) == 0.0


def test_graded_ndcg_by_hand():
    # gain is the grade: ideal order puts the grade-2 document first
    assert ndcg_at(["a", "b"], {"a": 1, "b": 2}, 10) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_recall_and_mrr_by_hand():
    ranked = ["d1", "d2", "d3", "d4"]
    relevant = {"d2": 1, "d3": 1, "d9": 1}
    assert recall_at(ranked, relevant, 100) == pytest.approx(2 / 3)
    assert recall_at(ranked, relevant, 2) == pytest.approx(1 / 3)
    assert mrr_at(ranked, relevant, 10) == 0.5
    assert mrr_at(ranked, {"zz": 1}, 10) == 0.0


@pytest.fixture()
def tiny_beir(tmp_path):
    """A four-document BEIR dataset with two test queries and one train query."""
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "bees", "title": "Honey bees", "text": "Honey bees pollinate crops and make honey from the nectar of flowers."},
        {"_id": "rust", "title": "Corrosion", "text": "Iron rusts when it reacts with oxygen and water, forming iron oxide."},
        {"_id": "tide", "title": "Tides", "text": "Tides rise and fall because of the gravitational pull of the Moon."},
        {"_id": "jazz", "title": "Jazz", "text": "Jazz music grew out of blues and ragtime in New Orleans."},
    ]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    queries = [{"_id": "q1", "text": "Why does iron rust?"}, {"_id": "q2", "text": "How does the Moon pull on the tides?"},
               {"_id": "q3", "text": "Where did jazz begin?"}]
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\trust\t1\nq2\ttide\t1\n")
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq3\tjazz\t1\n")
    return folder


def test_load_dataset_keeps_the_split(tiny_beir):
    dataset = load_dataset(tiny_beir, "test")
    assert sorted(dataset.queries) == ["q1", "q2"]
    assert len(dataset.documents) == 4
    assert dataset.documents[0].text == "Honey bees Honey bees pollinate crops and make honey from the nectar of flowers."
    assert load_dataset(tiny_beir, "test", joiner="\n").documents[0].text.startswith("Honey bees\nHoney bees")
    with pytest.raises(DatasetError, match="dev.tsv not found"):
        load_dataset(tiny_beir, "dev")


def test_eval_command_end_to_end(runner, tiny_beir, tmp_path):
    out = tmp_path / "figures.json"
    args = ["eval", str(tiny_beir), "--index-dir", str(tmp_path / "idx"), "--json", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["mode", "nDCG@10", "R@100", "MRR@10", "p50", "ms", "p95", "ms"]
    assert [line.split()[0] for line in lines[1:]] == ["hybrid", "dense", "lexical"]
    report = json.loads(out.read_text())
    assert report["queries"] == 2 and report["split"] == "test" and report["chunking"] == "passages"
    by_mode = {r["mode"]: r for r in report["results"]}
    assert by_mode["hybrid"]["ndcg@10"] == 1.0 and by_mode["dense"]["mrr@10"] == 1.0
    assert by_mode["dense"]["recall@100"] == 1.0
    again = runner.invoke(cli, args + ["--mode", "lexical"])
    assert "reused index" in again.stderr
    assert [line.split()[0] for line in again.stdout.splitlines()[1:]] == ["lexical"]


def test_eval_of_a_folder_that_is_not_beir(runner, tmp_path):
    result = runner.invoke(cli, ["eval", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "test.tsv not found" in result.stderr
