"""Sign-in against the real local stack: SRP with right and wrong passwords, token checks."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
import requests

from filevault_desktop.errors import AuthError
from tests.integration.stack import RunningStack, client


def test_right_password_signs_in(stack: RunningStack, tmp_path: Path) -> None:
    stack.add_user("carol", "Correct-horse1")
    svc = client(stack, tmp_path)
    signed_in = svc.login("carol", "Correct-horse1")
    assert signed_in.account.username == "carol"
    assert svc.session.tokens() is not None


@pytest.mark.parametrize("password", ["wrong-password1", "Correct-horse", "", "correct-horse1"])
def test_wrong_password_is_refused(stack: RunningStack, tmp_path: Path, password: str) -> None:
    stack.add_user(f"dave{len(password)}{password[:1]}", "Correct-horse1")
    svc = client(stack, tmp_path)
    with pytest.raises(AuthError):
        svc.login(f"dave{len(password)}{password[:1]}", password)
    assert svc.session.tokens() is None


def test_unknown_user_is_refused(stack: RunningStack, tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="wrong username or password"):
        client(stack, tmp_path).login("nobody-here", "Whatever123")


def _claims(stack: RunningStack, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "forged-sub",
        "token_use": "access",
        "client_id": stack.profile["client_id"],
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{stack.profile['user_pool_id']}",
        "iat": now,
        "exp": now + 600,
        "username": "mallory",
    }
    claims.update(overrides)
    return claims


def _stack_key(stack: RunningStack) -> object:
    jwk = json.loads((stack.data_dir / "secrets" / "jwt-signing-key.json").read_text())
    return jwt.PyJWK(jwk).key


def _get_me(stack: RunningStack, token: str) -> int:
    return requests.get(
        stack.api_url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).status_code


def test_gateway_checks_signature_issuer_client_and_expiry(stack: RunningStack) -> None:
    key = _stack_key(stack)
    headers = {"kid": "dummy"}
    good = jwt.encode(_claims(stack), key, algorithm="RS256", headers=headers)  # type: ignore[arg-type]
    assert _get_me(stack, good) == 200
    expired = jwt.encode(
        _claims(stack, exp=int(time.time()) - 60), key, algorithm="RS256", headers=headers
    )  # type: ignore[arg-type]
    assert _get_me(stack, expired) == 401
    other_client = jwt.encode(
        _claims(stack, client_id="someone-else"), key, algorithm="RS256", headers=headers
    )  # type: ignore[arg-type]
    assert _get_me(stack, other_client) == 401
    other_issuer = jwt.encode(
        _claims(stack, iss="https://evil.example/pool"), key, algorithm="RS256", headers=headers
    )  # type: ignore[arg-type]
    assert _get_me(stack, other_issuer) == 401
    assert _get_me(stack, good[:-4] + "AAAA") == 401
    assert _get_me(stack, "not-a-jwt") == 401
    assert requests.get(stack.api_url + "/me", timeout=10).status_code == 401


def test_moto_public_signing_key_is_not_trusted(stack: RunningStack) -> None:
    """moto signs with a key published in its package; our stack must not accept it."""
    from moto.utilities.utils import load_resource

    moto_key = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json")).key
    forged = jwt.encode(_claims(stack), moto_key, algorithm="RS256", headers={"kid": "dummy"})
    assert _get_me(stack, forged) == 401


def test_token_refresh_and_logout(stack: RunningStack, tmp_path: Path) -> None:
    stack.add_user("erin", "Correct-horse1")
    svc = client(stack, tmp_path)
    svc.login("erin", "Correct-horse1")
    tokens = svc.session.tokens()
    assert tokens is not None
    # Pretend the access token is about to expire: the session must refresh it.
    svc.session._store.save(type(tokens)(**{**tokens.__dict__, "expires_at": time.time() + 5}))
    # A new process reads them (a running session rereads the store only every few seconds).
    svc = client(stack, tmp_path)
    fresh = svc.access_token()
    assert _get_me(stack, fresh) == 200
    stored = svc.session.tokens()
    assert stored is not None and stored.expires_at > time.time() + 300
    svc.logout()
    assert svc.session.tokens() is None
    with pytest.raises(AuthError):
        svc.access_token()
