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

    def sign_in(self, username: str, password: str) -> Tokens:
        tokens = self._auth.sign_in(username, password)
        self._store.save(tokens)
        return tokens

    def sign_out(self) -> None:
        tokens = self._store.load()
        self._store.clear()
        if tokens is not None:
            self._auth.sign_out(tokens)

    def tokens(self) -> Tokens | None:
        return self._store.load()

    def access_token(self) -> str:
        """A current access token; refreshes (and stores) it when it is about to expire."""
        with self._lock:
            tokens = self._store.load()
            if tokens is None:
                raise AuthError("not signed in; run 'filevault login'")
            if tokens.expires_at - self._clock() > REFRESH_MARGIN_S:
                return tokens.access_token
            fresh = self._auth.refresh(tokens)
            self._store.save(fresh)
            return fresh.access_token
