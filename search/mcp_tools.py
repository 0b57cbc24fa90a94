"""What an agent can do with docsearch over MCP: four tools, and each indexed file as a resource.

The tools (search, read_passage, similar, index_status) build their requests with
SearchRequest, SimilarRequest and PassageRequest, as every client does, and answer
with JSON twice: as text, which is what a model reads, and as structured content
with a schema, which is what a program reads. A refused request, an unknown passage
or an index that cannot be loaded is a tool error whose text is the sentence that
says why. Everything is answered from the live generation, which may change
between two calls: passage ids are only good within one generation.
"""

from __future__ import annotations

import functools
import json
from importlib.metadata import version
from typing import Annotated, Any, Callable, Literal
from urllib.parse import quote

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, CallToolResult, Resource, TextContent, ToolAnnotations
from pydantic import Field

from docsearch.index.errors import DocsearchError

from .mcp_answers import IndexStatus, PassageAnswer, SearchAnswer, cite, hit_fields, passage_fields, status_fields
from .request import (DEFAULT_K, MAX_K, MAX_NEIGHBOURS, MODES, BadQuery, PassageNotFound, PassageRequest,
                      SearchRequest, SimilarRequest)

INSTRUCTIONS = (
    "docsearch searches a folder of documents by meaning and by words. Call `search` with a question; "
    "each hit has a citation (file:lines, or file p. N) to quote and an id to pass to `read_passage` "
    "(the passages around it) or `similar` (passages like it). Ids change when the index is rebuilt: "
    "take them from a recent answer. `index_status` says what the index holds, including the file types "
    "and folders the `type` and `path` filters can choose from. Each file is also a resource, "
    "docsearch://file/PATH."
)
FILE_URI = "docsearch://file/{+path}"
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Passages = Annotated[int, Field(description=f"How many passages to return, 1 to {MAX_K}.")]
PassageId = Annotated[int, Field(description="A passage id from a search result of the live index.")]
Path = Annotated[str | None, Field(description="Only files whose path matches this glob: * and ? within a "
                                               "folder name, ** across folders, e.g. 'reports/2024/**', '**/*.md'.")]
Types = Annotated[str | list[str] | None, Field(description="Only files of these types (extensions): 'pdf,md' "
                                                            "or ['pdf', 'md'].")]
PerFile = Annotated[bool, Field(description="Only the best passage of each file.")]
MaxChars = Annotated[int | None, Field(ge=1, description="Keep at most this many characters of each passage's "
                                                         "text; a cut text ends with '[… N more characters]'. "
                                                         "Default: whole passages.")]


def answer(body: dict) -> CallToolResult:
    """Return a tool's answer as compact JSON text for the model and as structured content."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=body)


def refusals(tool: Callable) -> Callable:
    """Turn the errors a user can act on into tool errors with their sentence (never a traceback)."""

    @functools.wraps(tool)
    def wrapper(*args, **kwargs):
        try:
            return tool(*args, **kwargs)
        except BadQuery as exc:
            # The request calls the question q; the tool calls it query.
            message = str(exc)
            raise ToolError("query" + message[1:] if message.startswith("q ") else message) from None
        except (PassageNotFound, DocsearchError) as exc:
            raise ToolError(str(exc)) from None

    return wrapper


class Tools:
    """The tools, answering from whatever generation `searcher()` says is live."""

    def __init__(self, searcher: Callable[[], Any]):
        self.searcher = searcher

    @refusals
    def search(self, query: Annotated[str, Field(description="The question, in plain words.")],
               k: Passages = DEFAULT_K,
               mode: Annotated[Literal[MODES], Field(description="hybrid (default) fuses meaning and words; "
                                                                  "dense is meaning only, lexical words only (BM25).")]
               = "hybrid",
               path: Path = None, type: Types = None, per_file: PerFile = False,
               max_chars: MaxChars = None) -> Annotated[CallToolResult, SearchAnswer]:
        """Answer a question with the passages that answer it best."""
        asked = SearchRequest.parse({"q": query, "k": k, "mode": mode, "group": "file" if per_file else None,
                                     "path": path, "type": type}, from_json=True)
        found = self.searcher().search(asked)
        return answer({"query": asked.q, "generation": found.generation, "low_confidence": found.low_confidence,
                       "hits": [hit_fields(hit, max_chars) for hit in found.hits]})

    @refusals
    def similar(self, id: PassageId, k: Passages = DEFAULT_K,
                per_file: Annotated[bool, Field(description="One passage per file, none from the passage's own file.")]
                = False,
                path: Path = None, type: Types = None,
                max_chars: MaxChars = None) -> Annotated[CallToolResult, SearchAnswer]:
        """Find the passages closest in meaning to a stored passage."""
        asked = SimilarRequest.parse({"id": id, "k": k, "group": "file" if per_file else None, "path": path,
                                      "type": type}, from_json=True)
        found = self.searcher().similar(asked)
        return answer({"id": asked.id, "generation": found.generation,
                       "hits": [hit_fields(hit, max_chars) for hit in found.hits]})

    @refusals
    def read_passage(self, id: PassageId,
                     before: Annotated[int, Field(description=f"Passages of the same file to read before it, "
                                                              f"0 to {MAX_NEIGHBOURS}.")] = 0,
                     after: Annotated[int, Field(description=f"Passages of the same file to read after it, "
                                                             f"0 to {MAX_NEIGHBOURS}.")] = 0,
                     max_chars: MaxChars = None) -> Annotated[CallToolResult, PassageAnswer]:
        """Read a passage with the passages around it in its file."""
        asked = PassageRequest(id=id, before=before, after=after)
        searcher = self.searcher()
        generation = searcher.manifest.generation
        found = searcher.passage(asked.id)
        if found is None:
            raise PassageNotFound(f"there is no passage {asked.id} in index generation {generation}; "
                                  "ids come from search results of the live generation")
        in_file = searcher.generation.catalog.file_passages(found.file_id)
        at = found.number - 1
        shown = in_file[max(at - asked.before, 0):at + asked.after + 1]
        return answer({"id": asked.id, "file": found.source, "generation": generation, "citation": cite(*shown),
                       "passages_in_file": len(in_file), "passages": [passage_fields(p, max_chars) for p in shown]})

    @refusals
    def index_status(self) -> Annotated[CallToolResult, IndexStatus]:
        """Say what the index holds: its size, model, generation, file types and folders."""
        return answer(status_fields(self.searcher()))


DESCRIPTIONS = {
    "search": "Search the documents for passages that answer a question. Each hit has the passage's text, file, "
              "lines, score, id and a citation to quote (file:lines, or file p. N for paged documents).",
    "read_passage": "Read a passage by id (from a search hit), with up to "
                    f"{MAX_NEIGHBOURS} passages of the same file before and after it for context.",
    "similar": "Find passages like a stored one (an id from a search hit), by its meaning; it is left out.",
    "index_status": "Describe the index: passages, files, model, generation, and the file types and folders "
                    "that search's type and path filters can choose from.",
}


def file_uri(path: str) -> str:
    """Return the resource URI of an indexed file: its path, percent-encoded but for its slashes."""
    # Not UriTemplate.expand: {+path} keeps a path's # and ? as they are, and that URI no longer matches.
    return "docsearch://file/" + quote(path, safe="/")


class DocsearchMCP(MCPServer):
    """An MCP server with docsearch's tools, whose resources are the files of the live index generation.

    Files are named by path, not by file id: ids are numbered afresh in each
    generation, so a URI an agent kept would name another file after a rebuild.
    """

    def __init__(self, searcher: Callable[[], Any], **settings):
        super().__init__("docsearch", version=version("docsearch"), instructions=INSTRUCTIONS, **settings)
        self.searcher = searcher
        tools = Tools(searcher)
        for name, description in DESCRIPTIONS.items():
            self.add_tool(getattr(tools, name), name=name, description=description, annotations=READ_ONLY)
        self.resource(FILE_URI, name="file", title="An indexed file", mime_type="text/plain",
                      description="A file's text as indexed, by its path in the corpus.")(self.read_file)

    async def list_resources(self) -> list[Resource]:
        """List the files of the live generation (the SDK's list is fixed when the server starts)."""
        files = await anyio.to_thread.run_sync(self._files)
        return [Resource(uri=file_uri(f.path), name=f.path, mime_type="text/plain",
                         description=f"{f.passages} passages") for f in files]

    def _files(self) -> list:
        """Return the live generation's files, or a protocol error saying why the index cannot be read."""
        try:
            return self.searcher().generation.catalog.files()
        except DocsearchError as exc:
            raise MCPError(INTERNAL_ERROR, str(exc)) from None

    def read_file(self, path: str) -> str:
        """Return a file's text as indexed: the whole document while unchanged, else its passages joined."""
        try:
            searcher = self.searcher()
        except DocsearchError as exc:
            raise ResourceError(str(exc)) from None
        file_id = next((i for i, known in searcher.generation.catalog.file_paths() if known == path), None)
        if file_id is None:
            raise ResourceNotFoundError(f"{path} is not a file of index generation {searcher.manifest.generation}")
        document = searcher.document(file_id)
        return document.text if document.text is not None else "\n\n".join(p.text for p in document.passages)


def build_server(searcher: Callable[[], Any], **settings) -> MCPServer:
    """Return the MCP server over the index that searcher() loads (it follows new generations)."""
    return DocsearchMCP(searcher, **settings)
