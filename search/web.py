"""The web form and the source view: server-rendered pages that work without JavaScript.

Every state is a URL: the form is a plain GET form, "more results" is a link
with a page number, and each hit links to /doc/<file id>?passage_id=<passage id>,
ids from the index, never a path. Errors are pages with a message and the
right status, not the API's JSON (unless a client asks /doc for JSON).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, replace

from flask import Blueprint, abort, render_template, request, send_file, url_for
from markupsafe import Markup, escape

from docsearch.index.errors import DocsearchError

from . import get_searcher
from .errors import error_response, handle_errors
from .highlight import mark
from .metrics import observe
from .request import (DEFAULT_K, MAX_ID, MAX_K, MAX_QUERY_CHARS, MODES, BadQuery, SearchRequest, SimilarRequest,
                      whole_number)

bp = Blueprint("web", __name__)
# The indexed types a browser shows itself; anything else (a Word file) is offered as a download.
INLINE = ("application/pdf", "text/plain", "text/markdown", "text/html")


def marked(text: str, spans: list[list[int]], opening: Markup = Markup("<mark>")) -> Markup:
    """Escape text, then wrap the given [start, end) spans in <mark> (or the given opening tag)."""
    return Markup(mark(text, spans, wrap=lambda words: opening + escape(words) + Markup("</mark>"), plain=escape))


@bp.app_template_filter("marked")
def marked_filter(hit) -> Markup:
    """Template filter: a hit's text with its matched words marked."""
    return marked(hit.text, hit.highlights)


@dataclass(frozen=True)
class ResultsPage:
    """One page of a search's hits, and where the next page is or why there is none."""

    hits: list
    like: object | None  # the passage whose likes these are (a "more like this" page), else None
    page: int
    first_rank: int
    found: int  # hits found for this page and the ones before it (one more, to tell if there is a next)
    corpus_empty: bool
    no_files: bool  # the folder or type chosen holds no indexed file
    low_confidence: bool
    generation: int
    first_url: str
    more_url: str | None
    end: str | None


def _state(asked: SearchRequest | SimilarRequest, page: int = 1) -> str:
    """Return the form's URL for these parameters: the shareable address of a page of results."""
    extra: dict = {"k": asked.k}
    if isinstance(asked, SimilarRequest):
        extra["like"] = asked.id
    else:
        extra.update(q=asked.q, mode=asked.mode)
    if asked.group:
        extra["group"] = asked.group
    if asked.filters.path:
        extra["path"] = asked.filters.path
    if asked.filters.types:
        extra["type"] = ",".join(asked.filters.types)
    if page > 1:
        extra["page"] = page
    return url_for("web.form", **extra)


def results_page(asked: SearchRequest | SimilarRequest, page: int) -> ResultsPage:
    """Find the hits ranked (page - 1) * k + 1 to page * k; the form pages no further than MAX_K."""
    searcher = get_searcher()
    last = page * asked.k
    if isinstance(asked, SimilarRequest):
        answer, like = searcher.similar(replace(asked, k=min(last + 1, MAX_K))), searcher.passage(asked.id)
    else:
        answer, like = searcher.search(replace(asked, k=min(last + 1, MAX_K))), None
    observe(answer)
    hits = answer.hits
    # Judged on the first page's hits, as the API judges them, so every page says the same.
    low_confidence = isinstance(asked, SearchRequest) and searcher.is_low_confidence(asked.q, hits[:asked.k])
    more = len(hits) > last
    if more:
        end = None
    elif len(hits) == MAX_K:
        end = f"The form shows the best {MAX_K} results: ask a narrower question to see others."
    else:
        end = f"No more results: {len(hits)} in all."
    return ResultsPage(
        hits=hits[(page - 1) * asked.k:last], like=like, page=page, first_rank=(page - 1) * asked.k + 1,
        found=len(hits), corpus_empty=searcher.manifest.passages == 0,
        no_files=bool(asked.filters) and not len(searcher.allowed(asked.filters)), low_confidence=low_confidence,
        generation=searcher.manifest.generation, first_url=_state(asked),
        more_url=_state(asked, page + 1) if more else None, end=end,
    )


def _form_page(results: ResultsPage | None = None, message: str | None = None, status: int = 200):
    """Render the form as the request filled it, with results or a message, and the index's folders and types."""
    args = request.args
    try:
        folders, types = get_searcher().facets()
    except DocsearchError:  # no index (yet): the form still shows, with the message that says so
        folders, types = [], []
    return render_template(
        "index.html", q=args.get("q", ""), k=args.get("k", DEFAULT_K), mode=args.get("mode", "hybrid"),
        group=args.get("group", ""), path=args.get("path", ""), type=args.get("type", ""), folders=folders,
        types=types, modes=MODES, max_k=MAX_K, max_chars=MAX_QUERY_CHARS, results=results, message=message,
    ), status


@bp.route("/")
def form():
    """Show the search form and, when a question was asked (or passages like one), a page of its results."""
    if "q" not in request.args and "like" not in request.args:
        return _form_page()
    # A box left empty (Results, page, folder, type) means its default, as in any GET form.
    args = {name: value for name, value in request.args.items() if name == "q" or value.strip()}
    if "like" in args and not args.get("q", "").strip():
        asked = SimilarRequest.parse({**args, "id": args["like"]})
    elif not args.get("q", "").strip():
        raise BadQuery("Type a question to search for.")
    else:
        asked = SearchRequest.parse(args)
    page = whole_number(args.get("page"), "page", 1, MAX_K)
    return _form_page(results_page(asked, page))


def _id(value: str | None, name: str) -> int:
    """Return an id from the URL, 0 when absent, or raise BadQuery naming it."""
    try:
        return whole_number(value, name, 0, MAX_ID)
    except BadQuery:
        raise BadQuery(f"{name} must be a whole number, as in the results' links, not {value[:40]!r}") from None


def _document_number(file_id: str) -> int:
    """Return the file id of a /doc/ URL, or answer 404: a malformed id names no document."""
    try:
        return _id(file_id, "document id")
    except BadQuery:
        abort(404, f"There is no document {file_id[:40]!r}: document ids are the numbers in the results' links.")


@bp.route("/doc/<file_id>")
def document(file_id: str):
    """Show an indexed file whole, its passage marked and scrolled to (#passage-<id>), all escaped."""
    number = _document_number(file_id)
    passage_id = _id(request.args.get("passage_id"), "passage_id")
    linked = _id(request.args.get("generation"), "generation")
    searcher = get_searcher()
    live = searcher.manifest.generation
    stale = [] if linked in (0, live) else [
        f"This link was made for index generation {linked}; the index has been rebuilt since (generation {live}), "
        "so its ids may now name another passage: search again if this is not the one you meant."
    ]
    doc = searcher.document(number)
    if doc is None:
        abort(404, " ".join([f"There is no document {number} in the index.", *stale]))
    passage = doc.passage(passage_id) if passage_id else None
    if passage_id and passage is None:
        abort(404, " ".join([f"Document {number} ({doc.path}) has no passage {passage_id}.", *stale]))
    body = None if doc.text is None else render_document(doc.text, passage, doc.pages)
    shown = doc.problem if doc.text is not None else f"{doc.problem}; these are its passages as indexed."
    notices = stale + ([shown] if doc.problem else [])
    original = url_for("web.original", file_id=number) if doc.original is not None else None
    if original and passage and passage.page:
        original += f"#page={passage.page}"  # browsers' PDF viewers open at that page
    return render_template("document.html", doc=doc, passage=passage, body=body, notices=notices, generation=live,
                           original=original)


def render_document(text: str, passage, pages: tuple[int, ...]) -> Markup:
    """Escape a document's text, mark the passage (#passage-<id>) and show where each page after the first starts."""
    page_at = {start: number for number, start in enumerate(pages, start=1) if start > 0}
    cuts = sorted({0, len(text), *pages, *((passage.start, passage.end) if passage else ())})
    out, opened = [], False
    for a, b in zip(cuts, cuts[1:]):
        if a in page_at:
            number = page_at[a]
            out.append(Markup('<span class="page-start" id="page-%d">page %d</span>') % (number, number))
        inside = passage is not None and passage.start <= a < passage.end
        if inside:  # a passage crossing a page start is marked on each side of it; the first part has its id
            opening = '<mark id="passage-%d" class="passage">' % passage.id if not opened else '<mark class="passage">'
            out.append(Markup(opening) + escape(text[a:b]) + Markup("</mark>"))
            opened = True
        else:
            out.append(escape(text[a:b]))
    return Markup("").join(out)


@bp.route("/doc/<file_id>/original")
def original(file_id: str):
    """Send an indexed file itself, found by its id only, with its type (web pages sandboxed: their scripts never run)."""
    number = _document_number(file_id)
    path = get_searcher().original(number)
    if path is None:
        abort(404, f"Document {number} is not in the corpus folder (any more): search again, or run `docsearch index`.")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = send_file(path, mimetype=kind, as_attachment=kind not in INLINE, download_name=path.name)
    if kind == "text/html":
        response.headers["Content-Security-Policy"] = "sandbox"  # kept, with the app's policy, by security.py
    return response


def _error_page(message: str, status: int):
    """Answer an error on a page: the form with a message, JSON if asked for it, else a message page."""
    if request.endpoint == "web.form":
        return _form_page(message=message, status=status)
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return error_response(message, status)
    return render_template("message.html", message=message, status=status), status


handle_errors(bp, _error_page, "Something went wrong on the server, not in your question; its log has the details.")
