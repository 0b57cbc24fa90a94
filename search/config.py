"""docsearch's configuration in one place: defaults, then DOCSEARCH_* environment variables, then flags.

``Config.load(flags)`` is how every command and ``create_app`` get theirs; each
value remembers where it came from, and ``docsearch serve`` prints them at
start-up. Nothing else reads DOCSEARCH_* variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from docsearch.index.vectors import StoreConfig

if TYPE_CHECKING:
    from docsearch.index import BuildOptions

# Named here so --help needs no heavy import (docsearch.index.embed.BACKENDS, docsearch.index.vectors.STORES).
BACKENDS = ("torch", "torch-bf16", "onnx", "onnx-int8")
STORES = ("faiss", "milvus")
SECRET = "(set, not shown)"


def _setting(default: Any, env: str, help: str, secret: bool = False, choices: tuple = ()):
    """Declare a setting: its default, its environment variable, what it is and what it may be."""
    return field(default=default, metadata={"env": env, "help": help, "secret": secret, "choices": choices})


class ConfigError(ValueError):
    """A setting's value cannot be used; the message names the setting and where it came from."""


@dataclass(frozen=True)
class Config:
    """Every setting of docsearch, with where each value came from."""

    index_dir: Path = _setting(Path(".docsearch"), "DOCSEARCH_INDEX_DIR", "folder that holds the index")
    corpus: Path = _setting(Path("docs_corpus"), "DOCSEARCH_CORPUS", "folder of documents to index")
    model: str | None = _setting(None, "DOCSEARCH_MODEL", "model when building (default all-MiniLM-L6-v2, bundled)")
    backend: str | None = _setting(None, "DOCSEARCH_BACKEND", "what runs the model (default: the fastest here)",
                                    choices=BACKENDS)
    store: str | None = _setting(None, "DOCSEARCH_STORE", "where vectors live: faiss or milvus (default: the index's)",
                                  choices=STORES)
    milvus_uri: str = _setting("", "DOCSEARCH_MILVUS_URI", "Milvus Lite folder (.db) or server URL")
    milvus_token: str = _setting("", "DOCSEARCH_MILVUS_TOKEN", "Milvus server token (user:password)", secret=True)
    ray: str | None = _setting(None, "DOCSEARCH_RAY", "embed on Ray: local, or a cluster address")
    max_file_mb: float = _setting(10.0, "DOCSEARCH_MAX_FILE_MB", "skip corpus files larger than this")
    paragraphs: str = _setting("auto", "DOCSEARCH_PARAGRAPHS", "how plain text marks paragraphs: auto, lines "
                               "(one per line) or blank (blank lines; lines between are wrapped)",
                               choices=("auto", "lines", "blank"))
    extract_seconds: float = _setting(60.0, "DOCSEARCH_EXTRACT_SECONDS", "longest a PDF, web page or Word file "
                                      "may take to read; past it the file is skipped")
    extract_memory_mb: int = _setting(1024, "DOCSEARCH_EXTRACT_MEMORY_MB", "most memory reading one PDF, web page "
                                      "or Word file may take; past it the file is skipped")
    cache_dir: str = _setting("", "DOCSEARCH_CACHE_DIR", "ONNX export cache (default ~/.cache/docsearch)")
    host: str = _setting("127.0.0.1", "DOCSEARCH_HOST", "address the server listens on")
    port: int = _setting(8000, "DOCSEARCH_PORT", "port the server listens on (0: any free port)")
    threads: int = _setting(4, "DOCSEARCH_THREADS", "request threads of the server")
    api_key_file: str = _setting("", "DOCSEARCH_API_KEY_FILE", "file of API key hashes, one a line (docsearch key add)")
    api_keys: str = _setting("", "DOCSEARCH_API_KEYS", "API keys, comma-separated (environment only)", secret=True)
    no_auth: bool = _setting(False, "DOCSEARCH_NO_AUTH", "serve a non-loopback address without API keys")
    session_secret: str = _setting("", "DOCSEARCH_SESSION_SECRET",
                                   "signs sign-in cookies; the same on every replica (default: new at each start)",
                                   secret=True)
    access_log: bool = _setting(True, "DOCSEARCH_ACCESS_LOG", "log one line per request")
    log_queries: bool = _setting(False, "DOCSEARCH_LOG_QUERIES", "put the query text in the access log")
    metrics: bool = _setting(True, "DOCSEARCH_METRICS", "serve Prometheus metrics at /metrics")
    origins: dict = field(default_factory=dict, compare=False, repr=False)  # setting -> "default", "env X", "flag"

    @classmethod
    def load(cls, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> "Config":
        """Return defaults, overridden by DOCSEARCH_* variables in environ, overridden by flags that are set."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for setting in fields(cls):
            env = setting.metadata.get("env")
            if not env:
                continue
            values[setting.name], origins[setting.name] = setting.default, "default"
            if environ.get(env, "") != "":
                values[setting.name], origins[setting.name] = _parse(setting, environ[env], f"${env}"), f"env {env}"
            if flags and flags.get(setting.name) is not None:
                values[setting.name], origins[setting.name] = _parse(setting, flags[setting.name], "flag"), "flag"
        return cls(**values, origins=origins)

    def store_config(self) -> StoreConfig:
        """Return where vectors live and how to reach them, as the index side takes it."""
        return StoreConfig(self.store, self.milvus_uri, self.milvus_token)

    def build_options(self, **extra) -> BuildOptions:
        """Return the build options these settings ask for (what they leave open, the live index decides)."""
        from docsearch.index import DEFAULT_MODEL, BuildOptions
        from docsearch.index.extract.sandbox import Limits

        return BuildOptions(model=self.model or DEFAULT_MODEL, backend=self.backend, store=self.store_config(),
                            max_file_bytes=int(self.max_file_mb * 2**20), ray=self.ray, cache_dir=self.cache_dir,
                            paragraphs=self.paragraphs,
                            limits=Limits(seconds=self.extract_seconds, memory_mb=self.extract_memory_mb), **extra)

    def describe(self) -> list[str]:
        """Return one line per setting: its value (secrets hidden) and where it came from."""
        lines = []
        for setting in fields(self):
            if "env" not in setting.metadata:
                continue
            value = getattr(self, setting.name)
            shown = SECRET if setting.metadata["secret"] and value else ("-" if value in (None, "") else value)
            lines.append(f"  {setting.name:<14} {str(shown):<30} ({self.origins.get(setting.name, 'default')})")
        return lines


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _truth(value: str, name: str, origin: str) -> bool:
    """Return a yes/no setting's value, or raise ConfigError: bool("0") would be True."""
    if value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise ConfigError(f"{name} from {origin} must be one of {', '.join(TRUE + FALSE)}, not {value!r}")


def _parse(setting, value: Any, origin: str) -> Any:
    """Return value as the setting's type, or raise ConfigError naming the setting and its origin."""
    kind = type(setting.default) if setting.default is not None else str
    choices = setting.metadata["choices"]
    if choices and value not in choices:
        raise ConfigError(f"{setting.name} from {origin} must be one of {', '.join(choices)}, not {value!r}")
    if isinstance(value, kind) or not isinstance(value, str):
        return value
    if kind is bool:
        return _truth(value, setting.name, origin)
    try:
        parsed = kind(value)
    except ValueError:
        raise ConfigError(f"{setting.name} from {origin} must be {kind.__name__}, not {value!r}") from None
    if kind in (int, float) and parsed < 0:
        raise ConfigError(f"{setting.name} from {origin} must not be negative, not {value!r}")
    return parsed
