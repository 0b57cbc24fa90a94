"""API keys: who may use a server. Keys are kept and compared as SHA-256 hashes and never logged.

``KeyRing.load(config)`` reads the keys a configuration names (``--api-key-file``, a file
of hashes written by ``docsearch key add``, and ``DOCSEARCH_API_KEYS``, keys hashed in
memory); ``ring.accepts(key)`` checks one in constant time. The HTTP app, its sign-in
page and the MCP server's HTTP transport ask the same ring::

    ring = KeyRing.load(config)
    if ring and not ring.accepts(bearer(request.headers.get("Authorization"))):
        ...  # answer 401
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .config import Config, ConfigError

PREFIX = "ds_"  # makes a docsearch key recognisable in a secret scanner or a config file
MIN_KEY_CHARS = 16
HASH_LINE = re.compile(r"sha256:([0-9a-f]{64})")
# What a refused request is told (a 401 in the one error shape), over every transport.
MISSING = "this server needs an API key: send the header Authorization: Bearer KEY"
WRONG = "the API key is not valid"


class KeyFileError(ConfigError):
    """An API key file cannot be read or holds something that is not a key hash."""


def new_key() -> str:
    """Return a new random API key (256 bits)."""
    return PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> bytes:
    """Return the SHA-256 digest of a key: what is stored and compared, never the key itself."""
    return hashlib.sha256(key.encode("utf-8", "replace")).digest()


def bearer(authorization: str | None) -> str | None:
    """Return the key of an ``Authorization: Bearer KEY`` header value, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass(frozen=True)
class KeyRing:
    """The hashes of the keys a server accepts; empty means the server needs no key."""

    hashes: tuple[bytes, ...] = ()

    @classmethod
    def load(cls, config: Config) -> "KeyRing":
        """Return the keys of config's api_key_file and api_keys, or raise KeyFileError saying what is wrong."""
        hashes = list(read_key_file(Path(config.api_key_file))) if config.api_key_file else []
        for key in (part.strip() for part in config.api_keys.split(",")):
            if key and len(key) < MIN_KEY_CHARS:
                raise KeyFileError(f"DOCSEARCH_API_KEYS holds a key of {len(key)} characters; use keys of at least "
                                   f"{MIN_KEY_CHARS} (docsearch key add makes them)")
            if key:
                hashes.append(key_hash(key))
        return cls(tuple(hashes))

    def __len__(self) -> int:
        return len(self.hashes)

    def accepts(self, key: str | None) -> bool:
        """Tell whether key is one of the ring's, comparing its hash with every stored one in constant time."""
        if not key:
            return False
        digest = key_hash(key)
        found = False
        for stored in self.hashes:  # no early exit: the time taken does not tell which key matched
            found |= hmac.compare_digest(digest, stored)
        return found

    def badge(self, key: str) -> str:
        """Return a short name of a key for a signed cookie: its hash's first 32 hex digits."""
        return key_hash(key).hex()[:32]

    def knows_badge(self, badge: str) -> bool:
        """Tell whether a cookie's badge names a key the ring still holds."""
        found = False
        for stored in self.hashes:
            found |= hmac.compare_digest(stored.hex()[:32], badge)
        return found


def read_key_file(path: Path) -> list[bytes]:
    """Return the key hashes in a key file: lines ``sha256:HEX``, with # comments and blank lines ignored."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read API key file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    hashes = []
    for number, line in enumerate(lines, 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        found = HASH_LINE.fullmatch(content)
        if found is None:
            raise KeyFileError(f"API key file {path}, line {number}, is not a key hash (sha256: and 64 hex digits); "
                               "add keys with `docsearch key add`")
        hashes.append(bytes.fromhex(found.group(1)))
    if not hashes:
        raise KeyFileError(f"API key file {path} holds no key; add one with `docsearch key add --api-key-file {path}`")
    return hashes


def add_key(path: Path, name: str = "") -> str:
    """Append a new key's hash to a key file (created readable by its owner only) and return the key."""
    key = new_key()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    note = f"  # {key[:len(PREFIX) + 4]}..., added {when}" + (f": {' '.join(name.split())}" if name else "")
    line = f"sha256:{key_hash(key).hex()}{note}\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as out:
        if out.tell() and not path.read_bytes().endswith(b"\n"):
            line = "\n" + line
        out.write(line)
    return key
