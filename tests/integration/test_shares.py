"""Share links over HTTP against the local stack (expiry with a fake clock is in tests/backend)."""

from __future__ import annotations

import requests

from tests.integration.helpers import upload_bytes


def _open(url: str, password: str | None = None) -> requests.Response:
    headers = {"X-Share-Password": password} if password else {}
    return requests.get(url, headers=headers, allow_redirects=False, timeout=10)


def test_create_resolve_revoke(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    f = upload_bytes(svc, "shared/report.pdf", b"%PDF-1.4 pretend")
    share = svc.api.create_share(f.file_id)
    r = _open(share.url)
    assert r.status_code == 302
    got = requests.get(r.headers["location"], timeout=10)
    assert got.content == b"%PDF-1.4 pretend"
    assert "report.pdf" in got.headers["content-disposition"]
    listed = svc.api.list_shares()
    assert [s.share_id for s in listed] == [share.share_id] and listed[0].downloads == 1
    revoked = svc.api.revoke_share(share.share_id)
    assert revoked.state == "revoked"
    r = _open(share.url)
    assert r.status_code == 410 and r.json()["code"] == "share_revoked"


def test_password_and_download_limit(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    f = upload_bytes(svc, "p.txt", b"secret")
    share = svc.api.create_share(f.file_id, password="open sesame", max_downloads=2)
    assert _open(share.url).status_code == 401
    assert _open(share.url, "wrong guess").status_code == 403
    assert _open(share.url, "open sesame").status_code == 302
    assert _open(share.url + "?password=open%20sesame").status_code == 302
    r = _open(share.url, "open sesame")
    assert r.status_code == 410 and r.json()["code"] == "download_limit_reached"


def test_unknown_or_trashed(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    f = upload_bytes(svc, "gone.txt", b"bye")
    share = svc.api.create_share(f.file_id)
    base = share.url.rsplit("/", 1)[0]
    assert _open(base + "/" + "A" * 43).status_code == 404
    assert _open(base + "/x").status_code == 404
    svc.api.trash(f.file_id)
    r = _open(share.url)
    assert r.status_code == 410 and r.json()["code"] == "file_unavailable"


def test_expiry_is_reported(make_user) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = make_user()
    f = upload_bytes(svc, "e.txt", b"x")
    share = svc.api.create_share(f.file_id, expires_in_seconds=60)
    assert share.state == "active" and share.expires_at > share.created_at
