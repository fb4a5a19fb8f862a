"""Maps a sync folder's relative paths to full server paths under its remote root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteRoot:
    root: str = ""  # "" is the user's whole space; else e.g. "Photos/2024"

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.strip("/"))

    def full(self, rel: str) -> str:
        return f"{self.root}/{rel}" if self.root else rel

    def rel(self, full: str) -> str | None:
        """The relative path, or None when ``full`` is outside this root."""
        if not self.root:
            return full
        prefix = self.root + "/"
        return full[len(prefix) :] if full.startswith(prefix) else None
