"""The server half of Cognito's SRP-6a, so the local stack refuses a wrong password.

moto answers the SRP flow with tokens whatever the password; the local stack
swaps moto's placeholder challenge for a real one and checks the client's
password claim before letting moto issue tokens. The math mirrors the client
half in pycognito.aws_srp (same N, g, k, hashing and key derivation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from pycognito.aws_srp import (
    G_HEX,
    N_HEX,
    calculate_u,
    compute_hkdf,
    hash_sha256,
    hex_hash,
    hex_to_long,
    long_to_hex,
    pad_hex,
)

_N = hex_to_long(N_HEX)
_G = hex_to_long(G_HEX)
_K = hex_to_long(hex_hash("00" + N_HEX + "0" + G_HEX))


@dataclass(frozen=True)
class Verifier:
    """What the server keeps instead of a password: a salt and v = g^x mod N."""

    salt_hex: str
    verifier_hex: str


def make_verifier(
    pool_id: str, user_id_for_srp: str, password: str, *, salt_hex: str | None = None
) -> Verifier:
    salt = salt_hex or secrets.token_hex(16)
    pool_name = pool_id.split("_", 1)[1]
    inner = hash_sha256(f"{pool_name}{user_id_for_srp}:{password}".encode())
    x = hex_to_long(hex_hash(pad_hex(salt) + inner))
    return Verifier(salt, str(long_to_hex(pow(_G, x, _N))))


@dataclass(frozen=True)
class Challenge:
    pool_id: str
    user_id_for_srp: str
    big_a: int
    small_b: int
    big_b: int
    verifier: Verifier
    secret_block: bytes

    @property
    def srp_b_hex(self) -> str:
        return str(long_to_hex(self.big_b))

    @property
    def secret_block_b64(self) -> str:
        return base64.standard_b64encode(self.secret_block).decode("ascii")


class SrpError(Exception):
    pass


def start(pool_id: str, user_id_for_srp: str, srp_a_hex: str, verifier: Verifier) -> Challenge:
    big_a = hex_to_long(srp_a_hex)
    if big_a % _N == 0:
        raise SrpError("invalid SRP_A")
    v = hex_to_long(verifier.verifier_hex)
    while True:
        small_b = secrets.randbelow(_N - 1) + 1
        big_b = (_K * v + pow(_G, small_b, _N)) % _N
        if big_b % _N != 0:
            break
    return Challenge(
        pool_id, user_id_for_srp, big_a, small_b, big_b, verifier, secrets.token_bytes(64)
    )


def expected_signature(challenge: Challenge, timestamp: str) -> bytes:
    u = calculate_u(challenge.big_a, challenge.big_b)
    if u == 0:
        raise SrpError("invalid SRP parameters")
    v = hex_to_long(challenge.verifier.verifier_hex)
    s = pow(challenge.big_a * pow(v, u, _N), challenge.small_b, _N)
    key = compute_hkdf(bytearray.fromhex(pad_hex(s)), bytearray.fromhex(pad_hex(long_to_hex(u))))
    pool_name = challenge.pool_id.split("_", 1)[1]
    message = (
        pool_name.encode()
        + challenge.user_id_for_srp.encode()
        + challenge.secret_block
        + timestamp.encode()
    )
    return hmac.new(key, message, hashlib.sha256).digest()


def check(challenge: Challenge, timestamp: str, signature_b64: str) -> bool:
    try:
        claimed = base64.standard_b64decode(signature_b64)
    except ValueError:
        return False
    return hmac.compare_digest(expected_signature(challenge, timestamp), claimed)
