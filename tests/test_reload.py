"""Hot reload: the app answers from each new generation without a restart."""

import pytest

from docsearch.index import build_index

from .conftest import app_for


@pytest.fixture()
def served(workspace, encoder):
    """A private corpus, its index, and an app serving that index."""
    corpus, index_dir = workspace
    return corpus, index_dir, app_for(index_dir, encoder)


def test_app_switches_to_a_new_generation(served, encoder):
    corpus, index_dir, app = served
    client = app.test_client()
    question = {"q": "penguins on the ice shelf of Antarctica", "k": 1}
    first = client.get("/api/search", query_string=question).get_json()
    assert first["generation"] == 1 and first["results"][0]["source"] != "penguins.txt"
    assert client.get("/healthz").get_json()["generation"] == 1

    (corpus / "penguins.txt").write_text("Emperor penguins breed on the sea ice of Antarctica through the winter.\n")
    build_index(corpus, index_dir, encoder=encoder)
    second = client.get("/api/search", query_string=question).get_json()
    assert second["generation"] == 2 and second["results"][0]["source"] == "penguins.txt"
    health = client.get("/healthz").get_json()
    assert (health["generation"], health["files"]) == (2, 6)
    assert app.extensions["docsearch"]["searcher"].encoder is encoder  # the model is not loaded again


def test_a_generation_that_fails_to_load_keeps_the_old_one(served, caplog):
    _, index_dir, app = served
    client = app.test_client()
    assert client.get("/healthz").get_json()["generation"] == 1
    (index_dir / "gen-000009").mkdir()
    (index_dir / "gen-000009" / "manifest.json").write_text("{not json")
    (index_dir / "CURRENT").write_text("gen-000009\n")
    response = client.get("/api/search", query_string={"q": "Iraq", "k": 1})
    assert response.status_code == 200 and response.get_json()["generation"] == 1
    assert any("gen-000009" in r.getMessage() and "could not be loaded" in r.getMessage() for r in caplog.records)
