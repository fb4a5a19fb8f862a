"""The server half of SRP agrees with pycognito's client half, and only for the right password."""

from __future__ import annotations

import pytest
from pycognito.aws_srp import AWSSRP

from backend.local import srp

POOL = "us-east-1_TestPool"


def _client_answer(password: str, challenge: srp.Challenge, client: AWSSRP) -> dict[str, str]:
    params = {
        "USER_ID_FOR_SRP": challenge.user_id_for_srp,
        "SALT": challenge.verifier.salt_hex,
        "SRP_B": challenge.srp_b_hex,
        "SECRET_BLOCK": challenge.secret_block_b64,
        "USERNAME": "u",
    }
    return dict(client.process_challenge(params, {"USERNAME": "u"}))


@pytest.mark.parametrize(
    ("typed", "ok"),
    [("Right-pass1", True), ("right-pass1", False), ("Right-pass", False), ("", False)],
)
def test_password_claim(typed: str, ok: bool) -> None:
    verifier = srp.make_verifier(POOL, "sub-123", "Right-pass1")
    client = AWSSRP(username="u", password=typed, pool_id=POOL, client_id="c", client=object())
    challenge = srp.start(POOL, "sub-123", client.get_auth_params()["SRP_A"], verifier)
    answer = _client_answer(typed, challenge, client)
    assert srp.check(challenge, answer["TIMESTAMP"], answer["PASSWORD_CLAIM_SIGNATURE"]) is ok


def test_signature_binds_timestamp_and_secret_block() -> None:
    verifier = srp.make_verifier(POOL, "sub-1", "Right-pass1")
    client = AWSSRP(
        username="u", password="Right-pass1", pool_id=POOL, client_id="c", client=object()
    )
    challenge = srp.start(POOL, "sub-1", client.get_auth_params()["SRP_A"], verifier)
    answer = _client_answer("Right-pass1", challenge, client)
    assert not srp.check(challenge, answer["TIMESTAMP"] + "x", answer["PASSWORD_CLAIM_SIGNATURE"])
    other = srp.start(POOL, "sub-1", client.get_auth_params()["SRP_A"], verifier)
    assert not srp.check(other, answer["TIMESTAMP"], answer["PASSWORD_CLAIM_SIGNATURE"])
    assert not srp.check(challenge, answer["TIMESTAMP"], "not base64!!")


def test_zero_srp_a_is_refused() -> None:
    verifier = srp.make_verifier(POOL, "sub-1", "pw")
    with pytest.raises(srp.SrpError):
        srp.start(POOL, "sub-1", "0", verifier)


def test_verifier_is_salted() -> None:
    a = srp.make_verifier(POOL, "sub-1", "same")
    b = srp.make_verifier(POOL, "sub-1", "same")
    assert a.salt_hex != b.salt_hex and a.verifier_hex != b.verifier_hex
