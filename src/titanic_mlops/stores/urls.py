"""The one parser of store URLs: `sqlite:///path`, `file:///dir`, `postgresql://...`.

Every setting that names a store (the prediction log, the monitoring state, the promotion lock)
goes through `parse`, so a wrong scheme is refused in one place, naming the setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

Scheme = Literal["sqlite", "file", "postgresql"]
POSTGRES_PREFIXES: Final = ("postgresql://", "postgresql+psycopg://", "postgres://")
_PATH_PREFIXES: Final[dict[str, Scheme]] = {"sqlite:///": "sqlite", "file://": "file"}


@dataclass(frozen=True)
class StoreUrl:
    """A parsed store URL: a local path (sqlite, file) or a libpq connection string."""

    scheme: Scheme
    target: str

    @property
    def path(self) -> Path:
        if self.scheme == "postgresql":
            raise ValueError(f"{self.target}: a PostgreSQL URL has no local path")
        return Path(self.target)


def is_postgres(url: str) -> bool:
    return url.startswith(POSTGRES_PREFIXES)


def connection_string(url: str) -> str:
    """`postgresql+psycopg://` (SQLAlchemy style) and `postgres://` both mean `postgresql://`."""
    for prefix in POSTGRES_PREFIXES:
        if url.startswith(prefix):
            return "postgresql://" + url.removeprefix(prefix)
    raise ValueError(f"not a PostgreSQL URL: {url!r} (expected postgresql://...)")


def parse(url: str, setting: str, allowed: tuple[Scheme, ...]) -> StoreUrl:
    """The URL's scheme and target; one of `allowed`, or a ValueError naming `setting`."""
    found: StoreUrl | None = None
    if is_postgres(url):
        found = StoreUrl("postgresql", connection_string(url))
    for prefix, scheme in _PATH_PREFIXES.items():
        if url.startswith(prefix):
            found = StoreUrl(scheme, url.removeprefix(prefix))
    if found is None or found.scheme not in allowed:
        expected = " or ".join(_EXAMPLES[s] for s in allowed)
        raise ValueError(f"{setting}: unsupported URL {redacted(url)!r} (expected {expected})")
    if not found.target.strip():
        raise ValueError(
            f"{setting}: {redacted(url)!r} names no {'database' if found.scheme == 'postgresql' else 'path'}"
        )
    return found


def redacted(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


_EXAMPLES: Final[dict[Scheme, str]] = {
    "sqlite": "sqlite:///path",
    "file": "file:///dir",
    "postgresql": "postgresql://...",
}
