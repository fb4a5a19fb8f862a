"""The signed-in session: stored tokens, refreshed shortly before they expire."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from filevault_desktop.auth.token_store import Tokens, TokenStore
from filevault_desktop.errors import AuthError

if TYPE_CHECKING:  # pycognito is heavy to import; the session needs only the protocol
    from filevault_desktop.auth.cognito import Authenticator

REFRESH_MARGIN_S = 120
STORE_REREAD_S = 10.0
"""Tokens read from the store are reused this long: a sync loop asks for a token at every
request, and each read of the OS keychain (or keyrings.alt's file) parsed it anew. Another
process's sign-out or refresh is still seen within this time."""


class AuthSession:
    def __init__(
        self,
        authenticator: Authenticator,
        store: TokenStore,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._auth = authenticator
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._read: tuple[Tokens, float] | None = None  # tokens and when they were read

    def sign_in(self, username: str, password: str) -> Tokens:
        tokens = self._auth.sign_in(username, password)
        self._store.save(tokens)
        self._read = None
        return tokens

    def sign_out(self) -> None:
        tokens = self._store.load()
        self._store.clear()
        self._read = None
        if tokens is not None:
            self._auth.sign_out(tokens)

    def tokens(self) -> Tokens | None:
        return self._store.load()

    def _stored(self) -> Tokens | None:
        now = self._clock()
        if self._read is not None and 0 <= now - self._read[1] < STORE_REREAD_S:
            return self._read[0]
        tokens = self._store.load()
        self._read = None if tokens is None else (tokens, now)
        return tokens

    def access_token(self) -> str:
        """A current access token; refreshes (and stores) it when it is about to expire."""
        with self._lock:
            tokens = self._stored()
            if tokens is None:
                raise AuthError("not signed in; run 'filevault login'")
            if tokens.expires_at - self._clock() > REFRESH_MARGIN_S:
                return tokens.access_token
            tokens = self._store.load()  # another process may have refreshed them already
            if tokens is None:
                self._read = None
                raise AuthError("not signed in; run 'filevault login'")
            if tokens.expires_at - self._clock() > REFRESH_MARGIN_S:
                self._read = (tokens, self._clock())
                return tokens.access_token
            fresh = self._auth.refresh(tokens)
            self._store.save(fresh)
            self._read = (fresh, self._clock())
            return fresh.access_token
