"""Token storage and refresh, with a fake authenticator and an injected clock."""

from __future__ import annotations

import pytest

from filevault_desktop.auth.session import AuthSession
from filevault_desktop.auth.token_store import KeyringTokenStore, Tokens
from filevault_desktop.errors import AuthError, KeychainUnavailable


class MemoryStore:
    def __init__(self) -> None:
        self.tokens: Tokens | None = None

    def load(self) -> Tokens | None:
        return self.tokens

    def save(self, tokens: Tokens) -> None:
        self.tokens = tokens

    def clear(self) -> None:
        self.tokens = None


class FakeAuth:
    def __init__(self) -> None:
        self.refreshes = 0
        self.signed_out: list[str] = []

    def sign_in(self, username: str, password: str) -> Tokens:
        if password != "good":
            raise AuthError("wrong username or password")
        return Tokens(username, "id", "access-1", "refresh", expires_at=1000.0)

    def refresh(self, tokens: Tokens) -> Tokens:
        self.refreshes += 1
        return Tokens(
            tokens.username,
            "id",
            f"access-{self.refreshes + 1}",
            tokens.refresh_token,
            expires_at=1000.0 + 3600 * self.refreshes,
        )

    def sign_out(self, tokens: Tokens) -> None:
        self.signed_out.append(tokens.access_token)


def test_refreshes_only_near_expiry() -> None:
    now = [0.0]
    auth, store = FakeAuth(), MemoryStore()
    session = AuthSession(auth, store, clock=lambda: now[0])
    session.sign_in("ann", "good")
    assert session.access_token() == "access-1" and auth.refreshes == 0
    now[0] = 1000.0 - 60  # inside the refresh margin
    assert session.access_token() == "access-2" and auth.refreshes == 1
    assert store.tokens is not None and store.tokens.access_token == "access-2"
    assert session.access_token() == "access-2" and auth.refreshes == 1


def test_wrong_password_stores_nothing() -> None:
    store = MemoryStore()
    with pytest.raises(AuthError):
        AuthSession(FakeAuth(), store).sign_in("ann", "bad")
    assert store.tokens is None


def test_sign_out_clears_and_revokes() -> None:
    auth, store = FakeAuth(), MemoryStore()
    session = AuthSession(auth, store)
    session.sign_in("ann", "good")
    session.sign_out()
    assert store.tokens is None and auth.signed_out == ["access-1"]
    with pytest.raises(AuthError, match="not signed in"):
        session.access_token()


def test_no_keychain_names_the_backend_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    store = KeyringTokenStore("filevault", "local@test")
    with pytest.raises(KeychainUnavailable, match="PYTHON_KEYRING_BACKEND"):
        store.save(Tokens("u", "i", "a", "r", 0.0))
    with pytest.raises(KeychainUnavailable, match="PYTHON_KEYRING_BACKEND"):
        store.load()


def test_file_keyring_round_trip() -> None:
    store = KeyringTokenStore("filevault-test", "round-trip")
    tokens = Tokens("u", "id", "access", "refresh", 123.0)
    store.save(tokens)
    assert store.load() == tokens
    store.clear()
    assert store.load() is None
    store.clear()  # clearing twice is fine


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load(self) -> Tokens | None:
        self.loads += 1
        return super().load()


def test_the_store_is_read_at_most_every_few_seconds_and_others_changes_are_seen() -> None:
    now = [0.0]
    store = CountingStore()
    session = AuthSession(FakeAuth(), store, clock=lambda: now[0])
    session.sign_in("ann", "good")
    for _ in range(50):  # a sync loop's requests
        assert session.access_token() == "access-1"
    assert store.loads == 1
    # Another process refreshed the tokens: seen once the read is older than the limit.
    store.tokens = Tokens("ann", "id", "access-other", "refresh", expires_at=5000.0)
    now[0] = 5.0
    assert session.access_token() == "access-1"
    now[0] = 10.5
    assert session.access_token() == "access-other"
    # ... and another process's sign-out too.
    store.tokens = None
    now[0] = 21.0
    with pytest.raises(AuthError):
        session.access_token()


def test_near_expiry_the_store_is_read_again_before_refreshing() -> None:
    now = [0.0]
    auth, store = FakeAuth(), CountingStore()
    session = AuthSession(auth, store, clock=lambda: now[0])
    session.sign_in("ann", "good")
    assert session.access_token() == "access-1"
    # Another process refreshed meanwhile; this one must not refresh again.
    store.tokens = Tokens("ann", "id", "access-other", "refresh", expires_at=9000.0)
    now[0] = 1000.0 - 60
    assert session.access_token() == "access-other" and auth.refreshes == 0
