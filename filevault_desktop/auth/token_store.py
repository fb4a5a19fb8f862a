"""Tokens live in the OS keychain through keyring, never in files of ours."""

from __future__ import annotations

import contextlib
import ctypes.util
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Protocol

import keyring
import keyring.errors
from keyring.backends import fail

from filevault_desktop.errors import KeychainUnavailable

NO_KEYCHAIN = (
    "no usable keychain was found for storing your sign-in tokens. Install and unlock one "
    "(GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager), or choose a keyring "
    "backend explicitly with the PYTHON_KEYRING_BACKEND environment variable (for example "
    "PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring on a headless machine, which "
    "stores the tokens unencrypted)."
)


@dataclass(frozen=True)
class Tokens:
    username: str
    id_token: str
    access_token: str
    refresh_token: str
    expires_at: float  # of the access token, seconds since the epoch


class TokenStore(Protocol):
    def load(self) -> Tokens | None: ...
    def save(self, tokens: Tokens) -> None: ...
    def clear(self) -> None: ...


_MACOS_FRAMEWORKS = frozenset({"Security", "CoreServices", "Foundation"})
_DETECTING = threading.Lock()


@contextlib.contextmanager
def _macos_frameworks_not_searched_elsewhere() -> Iterator[None]:
    """keyring imports its macOS backend on every platform, and that import asks ctypes for
    three macOS frameworks: off macOS each ``find_library`` runs ldconfig and gcc (0.09 s of
    every command's start here; jaraco/keyring#403). Those frameworks exist only on macOS, so
    elsewhere the answer is "not found" without the search, as the search would find."""
    if sys.platform == "darwin":
        yield
        return
    # One thread at a time: two overlapping swaps would restore each other's wrapper.
    with _DETECTING:
        search = ctypes.util.find_library

        def find_library(name: str) -> str | None:
            return None if name in _MACOS_FRAMEWORKS else search(name)

        ctypes.util.find_library = find_library
        try:
            yield
        finally:
            ctypes.util.find_library = search


def _usable_backend() -> keyring.backend.KeyringBackend:
    with _macos_frameworks_not_searched_elsewhere():
        backend = keyring.get_keyring()  # detects the backend at the first call
    chained = getattr(backend, "backends", None)
    if isinstance(backend, fail.Keyring) or (chained is not None and not chained):
        raise KeychainUnavailable(NO_KEYCHAIN)
    return backend


class KeyringTokenStore:
    """One keychain entry per (client home, profile)."""

    def __init__(self, service: str, account: str) -> None:
        self._service = service
        self._account = account

    def load(self) -> Tokens | None:
        try:
            raw = _usable_backend().get_password(self._service, self._account)
        except keyring.errors.KeyringError as exc:
            raise KeychainUnavailable(f"{NO_KEYCHAIN} ({exc})") from exc
        if not raw:
            return None
        try:
            return Tokens(**json.loads(raw))
        except (ValueError, TypeError):
            return None  # an unreadable entry is as good as signed out

    def save(self, tokens: Tokens) -> None:
        try:
            _usable_backend().set_password(self._service, self._account, json.dumps(asdict(tokens)))
        except keyring.errors.KeyringError as exc:
            raise KeychainUnavailable(f"{NO_KEYCHAIN} ({exc})") from exc

    def clear(self) -> None:
        try:
            _usable_backend().delete_password(self._service, self._account)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise KeychainUnavailable(f"{NO_KEYCHAIN} ({exc})") from exc
