"""The local stack's reach into moto's in-process Cognito backend.

Only three things need it, each a security or durability gap of moto:
- tokens are signed with a key generated for this stack (moto's own key is
  public), published at the pool's JWKS URL;
- SRP needs the user's verifier, derived from the password moto holds;
- users survive restarts with the same ``sub`` (our data is keyed by it), and
  what is written to disk is an SRP verifier, never the password.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from backend.local.srp import Verifier, make_verifier

ACCOUNT_ID = "123456789012"
# moto writes this kid into every token header; our JWKS publishes our key under it.
TOKEN_KID = "dummy"  # noqa: S105 (a key id, not a secret)


def generate_signing_key() -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key))
    jwk.update({"kid": TOKEN_KID, "alg": "RS256", "use": "sig"})
    return jwk


def public_jwks(private_jwk: dict[str, Any]) -> dict[str, Any]:
    public = {k: private_jwk[k] for k in ("kty", "n", "e", "kid", "alg", "use")}
    return {"keys": [public]}


@dataclass(frozen=True)
class SavedUser:
    username: str
    sub: str
    attributes: list[dict[str, str]]
    status: str
    enabled: bool
    groups: list[str]
    salt_hex: str
    verifier_hex: str


@dataclass(frozen=True)
class SrpUser:
    user_id: str
    verifier: Verifier


class LocalCognito:
    def __init__(self, region: str, private_jwk: dict[str, Any]) -> None:
        self.region = region
        self._jwk = private_jwk
        self._verifiers: dict[tuple[str, str], Verifier] = {}
        # What each verifier was derived from (a digest, so no password is kept twice).
        self._derived_from: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def _backend(self) -> Any:
        from moto.cognitoidp.models import cognitoidp_backends

        return cognitoidp_backends[ACCOUNT_ID][self.region]

    def _pool(self, pool_id: str) -> Any:
        return self._backend().user_pools[pool_id]

    def install_signing_key(self, pool_id: str) -> None:
        from joserfc import jwk

        self._pool(pool_id).json_web_key = jwk.RSAKey.import_key(self._jwk)

    def pool_of_client(self, client_id: str) -> str | None:
        for pool_id, pool in self._backend().user_pools.items():
            if client_id in pool.clients:
                return str(pool_id)
        return None

    def srp_user(self, pool_id: str, username: str) -> SrpUser | None:
        """The user's SRP identity, from moto's password or (after a restart) the saved verifier."""
        pool = self._pool(pool_id)
        user = pool._get_user(username)
        if user is None:
            return None
        key = (pool_id, user.username)
        with self._lock:
            if user.password is not None:
                # Derive the verifier (a modular exponentiation) only when the password changed,
                # not on every sign-in and snapshot.
                fingerprint = hashlib.sha256(f"{user.id}:{user.password}".encode()).digest()
                if self._derived_from.get(key) != fingerprint:
                    self._verifiers[key] = make_verifier(pool_id, user.id, user.password)
                    self._derived_from[key] = fingerprint
            saved = self._verifiers.get(key)
        return SrpUser(user.id, saved) if saved else None

    def export_users(self, pool_id: str) -> list[SavedUser]:
        out = []
        for user in list(self._pool(pool_id).users.values()):
            srp_user = self.srp_user(pool_id, user.username)
            if srp_user is None:
                continue  # no password yet: nothing to sign in with
            out.append(
                SavedUser(
                    username=user.username,
                    sub=user.id,
                    attributes=[a for a in user.attributes if a["Name"] != "sub"],
                    status=str(getattr(user.status, "value", user.status)),
                    enabled=bool(user.enabled),
                    groups=sorted(g.group_name for g in user.groups),
                    salt_hex=srp_user.verifier.salt_hex,
                    verifier_hex=srp_user.verifier.verifier_hex,
                )
            )
        return out

    def import_users(self, pool_id: str, users: list[SavedUser]) -> None:
        from moto.cognitoidp.models import CognitoIdpUser, UserStatus

        pool = self._pool(pool_id)
        backend = self._backend()
        for saved in users:
            user = CognitoIdpUser(
                pool_id, saved.username, None, UserStatus(saved.status), saved.attributes
            )
            user.id = saved.sub
            user.update_attributes([{"Name": "sub", "Value": saved.sub}])
            user.enabled = saved.enabled
            pool.users[user.username] = user
            for group in saved.groups:
                if group in pool.groups:
                    backend.admin_add_user_to_group(pool_id, group, user.username)
            with self._lock:
                self._verifiers[(pool_id, user.username)] = Verifier(
                    saved.salt_hex, saved.verifier_hex
                )

    @staticmethod
    def dump(users: list[SavedUser]) -> list[dict[str, Any]]:
        return [asdict(u) for u in users]

    @staticmethod
    def load(raw: list[dict[str, Any]]) -> list[SavedUser]:
        return [SavedUser(**u) for u in raw]
