"""Typed client of the FileVault HTTP API: pooled connections, retries, errors mapped to ours."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from filevault_desktop.api.models import (
    Account,
    AdminUser,
    ChangesPage,
    EmptyTrashPage,
    NotificationPage,
    PurgedFile,
    RemoteFile,
    Share,
    UploadTicket,
    Version,
)
from filevault_desktop.errors import (
    ApiError,
    AuthError,
    ConflictError,
    NetworkError,
    NotFoundError,
    QuotaError,
)

TokenSource = Callable[[], str]
TIMEOUT = (5, 60)
# Asks the API for S3 Transfer Acceleration URLs (backend.naming.ACCELERATE_HEADER).
ACCELERATE_HEADER = "X-FileVault-Accelerate"
ACK_BATCH = 100  # the API's limit per acknowledgement


def make_http(pool_size: int = 16) -> requests.Session:
    """A session whose retries cover connection errors, 429 and 502-504, with jittered backoff."""
    retry = Retry(
        total=5,
        connect=3,
        read=2,
        status=4,
        backoff_factor=0.25,
        backoff_jitter=0.25,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=frozenset({"GET", "PUT", "DELETE", "PATCH", "POST", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _error(response: requests.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return error_from(response.status_code, body, response.reason)


def error_from(status: int, body: dict[str, Any], reason: str | None = None) -> ApiError:
    """The client-side error for an API error body (of a response, or of one batch item)."""
    code = str(body.get("code") or ("unauthorized" if status == 401 else "http_error"))
    message = str(body.get("message") or reason or "request failed")
    details = body.get("details") if isinstance(body.get("details"), dict) else None
    cls = {404: NotFoundError, 409: ConflictError}.get(status, ApiError)
    if code == "quota_exceeded":
        cls = QuotaError
    return cls(status, code, message, details)


def _item_error(item: dict[str, Any]) -> ApiError:
    error = item.get("error")
    body: dict[str, Any] = error if isinstance(error, dict) else {}
    return error_from(int(body.get("status", 500)), body)


def _inline_download(item: dict[str, Any]) -> tuple[RemoteFile, bytes] | ApiError:
    try:
        return RemoteFile.from_json(item["file"]), base64.b64decode(item["content"], validate=True)
    except (binascii.Error, ValueError, TypeError, KeyError):
        return error_from(502, {"code": "bad_answer", "message": "the server's answer is garbled"})


FRAMED_BATCH_TYPE = "application/vnd.filevault.batch"
"""Inline downloads with the contents as they are (the API's description of the route)."""


def _framed_downloads(body: bytes) -> list[tuple[RemoteFile, bytes] | ApiError]:
    """The items of a ``FRAMED_BATCH_TYPE`` answer: a line of JSON, then the contents. An
    answer whose contents do not add up was cut: a NetworkError, as for a dropped connection
    (the caller fetches those files another way)."""
    line, newline, rest = body.partition(b"\n")
    out: list[tuple[RemoteFile, bytes] | ApiError] = []
    offset = 0
    try:
        for item in json.loads(line)["items"]:
            if "download" not in item:
                out.append(_item_error(item))
                continue
            length = int(item["download"]["length"])
            end = offset + length
            if not newline or length < 0 or end > len(rest):
                raise ValueError("shorter than the lengths it announces")
            out.append((RemoteFile.from_json(item["download"]["file"]), rest[offset:end]))
            offset = end
    except (ValueError, TypeError, KeyError) as exc:
        raise NetworkError(f"the server's answer was cut or garbled ({exc})") from exc
    if offset != len(rest):
        raise NetworkError("the server's answer holds more than it announces")
    return out


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        *,
        http: requests.Session | None = None,
        on_unauthorized: Callable[[], None] | None = None,
        accelerate: bool = False,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._http = http or make_http()
        self._on_unauthorized = on_unauthorized
        self._extra_headers = {ACCELERATE_HEADER: "1"} if accelerate else {}

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        auth: bool = True,
        allow_redirects: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        for attempt in (1, 2):
            sent = {"Authorization": f"Bearer {self._token()}"} if auth else {}
            sent.update(self._extra_headers)
            sent.update(headers or {})
            try:
                response = self._http.request(
                    method,
                    self._base + path,
                    json=json,
                    data=data,
                    params=params,
                    headers=sent,
                    timeout=TIMEOUT,
                    allow_redirects=allow_redirects,
                )
            except requests.RequestException as exc:
                raise NetworkError(f"cannot reach FileVault at {self._base}: {exc}") from exc
            if response.status_code == 401 and auth and attempt == 1 and self._on_unauthorized:
                self._on_unauthorized()  # the token was refused: force a refresh and try once more
                continue
            if response.status_code == 401 and auth:
                raise AuthError("the server refused your session; sign in again")
            if response.status_code >= 400:
                raise _error(response)
            return response
        raise AssertionError("unreachable")

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # ----- account -----
    def me(self) -> Account:
        return Account.from_json(self._json("GET", "/me"))

    # ----- uploads -----
    def initiate_upload(
        self,
        path: str,
        size: int,
        content_type: str = "application/octet-stream",
        **expected: str | None,
    ) -> UploadTicket:
        body: dict[str, Any] = {
            "path": path,
            "size": size,
            "content_type": content_type,
            **expected,
        }
        return UploadTicket.from_json(self._json("POST", "/uploads", json=body))

    def part_urls(self, upload_id: str, part_numbers: list[int]) -> UploadTicket:
        return UploadTicket.from_json(
            self._json(
                "POST", f"/uploads/{quote(upload_id)}/parts", json={"part_numbers": part_numbers}
            )
        )

    def complete_upload(
        self,
        upload_id: str,
        parts: list[dict[str, Any]] | None = None,
        *,
        sha256: str | None = None,
    ) -> RemoteFile:
        body: dict[str, Any] = {"parts": parts or []}
        if sha256 is not None:
            body["sha256"] = sha256
        data = self._json("POST", f"/uploads/{quote(upload_id)}/complete", json=body)
        return RemoteFile.from_json(data)

    def initiate_upload_batch(self, files: list[dict[str, Any]]) -> list[UploadTicket | ApiError]:
        """Starts up to 100 small uploads (each as ``initiate_upload``'s body) at once."""
        data = self._json("POST", "/upload-batches", json={"files": files})
        return [
            UploadTicket.from_json(item["upload"]) if "upload" in item else _item_error(item)
            for item in data["items"]
        ]

    def complete_upload_batch(self, uploads: list[dict[str, Any]]) -> list[RemoteFile | ApiError]:
        """Completes up to 100 uploads: ``{"upload_id", "parts"?, "sha256"?}`` each."""
        data = self._json("POST", "/upload-batches/complete", json={"uploads": uploads})
        return [
            RemoteFile.from_json(item["file"]) if "file" in item else _item_error(item)
            for item in data["items"]
        ]

    def upload_inline_batch(self, files: list[dict[str, Any]]) -> list[RemoteFile | ApiError]:
        """Uploads small files with their bytes in the request (``path``, ``size``,
        ``sha256``, ``content`` bytes, ``content_type``?, ``expected_version``? each), framed:
        the fields as a line of JSON, then the bytes as they are."""
        head = json.dumps(
            {"files": [{k: v for k, v in f.items() if k != "content"} for f in files]}
        )
        body = b"".join([head.encode("utf-8"), b"\n", *(f["content"] for f in files)])
        data = self.request(
            "POST",
            "/upload-batches/inline",
            data=body,
            headers={"Content-Type": FRAMED_BATCH_TYPE},
        ).json()
        return [
            RemoteFile.from_json(item["file"]) if "file" in item else _item_error(item)
            for item in data["items"]
        ]

    def abort_upload(self, upload_id: str) -> None:
        self.request("DELETE", f"/uploads/{quote(upload_id)}")

    # ----- files -----
    def list_files(self, prefix: str = "", *, page_size: int = 500) -> Iterator[RemoteFile]:
        for page in self.list_file_pages(prefix, page_sizes=(page_size,)):
            yield from page

    def list_file_pages(
        self, prefix: str = "", *, page_sizes: Sequence[int] = (500,)
    ) -> Iterator[list[RemoteFile]]:
        """The files under ``prefix`` a page at a time: the first asks for ``page_sizes[0]``
        files, the next for ``page_sizes[1]``, and so on, the last size for every page after."""
        cursor: str | None = None
        for number in itertools.count():
            limit = page_sizes[min(number, len(page_sizes) - 1)]
            params = {"prefix": prefix, "limit": str(limit)}
            if cursor:
                params["cursor"] = cursor
            page = self._json("GET", "/files", params=params)
            yield [RemoteFile.from_json(item) for item in page["items"]]
            cursor = page.get("cursor")
            if not cursor:
                return

    def get_file(self, file_id: str) -> RemoteFile:
        return RemoteFile.from_json(self._json("GET", f"/files/{quote(file_id)}"))

    def download_url(self, file_id: str) -> str:
        return str(self._json("GET", f"/files/{quote(file_id)}/download")["url"])

    def download_urls(self, file_ids: list[str]) -> list[str | ApiError]:
        """Pre-signed GET URLs of up to 100 files in one request (one answer per id)."""
        data = self._json("POST", "/download-batches", json={"file_ids": file_ids})
        return [
            str(item["download"]["url"]) if "download" in item else _item_error(item)
            for item in data["items"]
        ]

    def download_inline_batch(
        self, file_ids: list[str]
    ) -> list[tuple[RemoteFile, bytes] | ApiError]:
        """The current versions of up to 100 small files with their bytes (2 MiB at most in
        all); a file that does not fit answers ``too_large_for_batch``."""
        response = self.request(
            "POST",
            "/download-batches/inline",
            json={"file_ids": file_ids},
            headers={"Accept": f"{FRAMED_BATCH_TYPE}, application/json"},
        )
        if response.headers.get("content-type", "").startswith(FRAMED_BATCH_TYPE):
            return _framed_downloads(response.content)
        return [
            _inline_download(item["download"]) if "download" in item else _item_error(item)
            for item in response.json()["items"]
        ]

    def move(self, file_id: str, path: str, *, expected_version: str | None = None) -> RemoteFile:
        """Renames/moves without transferring bytes; with ``expected_version``, only if the
        file is still at that version (else ConflictError)."""
        body: dict[str, Any] = {"path": path}
        if expected_version is not None:
            body["expected_version"] = expected_version
        return RemoteFile.from_json(self._json("PATCH", f"/files/{quote(file_id)}", json=body))

    def trash(self, file_id: str) -> RemoteFile:
        return RemoteFile.from_json(self._json("DELETE", f"/files/{quote(file_id)}"))

    def list_versions(self, file_id: str) -> list[Version]:
        data = self._json("GET", f"/files/{quote(file_id)}/versions")
        return [Version.from_json(v) for v in data["items"]]

    def restore_version(self, file_id: str, version_id: str) -> RemoteFile:
        path = f"/files/{quote(file_id)}/versions/{quote(version_id)}/restore"
        return RemoteFile.from_json(self._json("POST", path))

    def list_trash(self, *, page_size: int = 500) -> Iterator[RemoteFile]:
        cursor: str | None = None
        while True:
            params = {"limit": str(page_size), **({"cursor": cursor} if cursor else {})}
            page = self._json("GET", "/trash", params=params)
            yield from (RemoteFile.from_json(item) for item in page["items"])
            cursor = page.get("cursor")
            if not cursor:
                return

    def restore_from_trash(self, file_id: str, path: str | None = None) -> RemoteFile:
        body = {"path": path} if path else {}
        data = self._json("POST", f"/trash/{quote(file_id)}/restore", json=body)
        return RemoteFile.from_json(data)

    def purge_from_trash(self, file_id: str) -> PurgedFile:
        """Deletes a trashed file for good (ConflictError ``not_in_trash`` for a live one)."""
        return PurgedFile.from_json(self._json("DELETE", f"/trash/{quote(file_id)}"))

    def empty_trash_page(
        self, *, before: str | None = None, cursor: str | None = None
    ) -> EmptyTrashPage:
        """One page of emptying the trash; pass the previous page's ``before`` and ``cursor``."""
        body = {name: value for name, value in (("before", before), ("cursor", cursor)) if value}
        return EmptyTrashPage.from_json(self._json("POST", "/trash/empty", json=body))

    def empty_trash(self) -> Iterator[EmptyTrashPage]:
        """Every page of emptying the trash: files trashed after the first call are kept."""
        page = self.empty_trash_page()
        yield page
        while page.cursor:
            page = self.empty_trash_page(before=page.before, cursor=page.cursor)
            yield page

    def changes(self, cursor: str | None) -> ChangesPage:
        params = {"cursor": cursor} if cursor else None
        return ChangesPage.from_json(self._json("GET", "/changes", params=params))

    # ----- notifications -----
    def notifications(self, cursor: str | None = None, *, limit: int = 200) -> NotificationPage:
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        return NotificationPage.from_json(self._json("GET", "/notifications", params=params))

    def ack_notifications(self, notification_ids: list[str]) -> int:
        """Marks them read (100 per request); returns how many were unread before."""
        acknowledged = 0
        for start in range(0, len(notification_ids), ACK_BATCH):
            body = {"notification_ids": notification_ids[start : start + ACK_BATCH]}
            acknowledged += int(self._json("POST", "/notifications/ack", json=body)["acknowledged"])
        return acknowledged

    # ----- shares -----
    def create_share(
        self,
        file_id: str,
        *,
        expires_in_seconds: int = 24 * 3600,
        password: str | None = None,
        max_downloads: int | None = None,
    ) -> Share:
        body: dict[str, Any] = {"file_id": file_id, "expires_in_seconds": expires_in_seconds}
        if password:
            body["password"] = password
        if max_downloads:
            body["max_downloads"] = max_downloads
        return Share.from_json(self._json("POST", "/shares", json=body))

    def list_shares(self) -> list[Share]:
        return [Share.from_json(s) for s in self._json("GET", "/shares")["items"]]

    def revoke_share(self, share_id: str) -> Share:
        return Share.from_json(self._json("DELETE", f"/shares/{quote(share_id)}"))

    # ----- administration (the admins group only; others get ApiError 403 "forbidden") -----
    def admin_users(self, *, page_size: int = 200) -> Iterator[AdminUser]:
        cursor: str | None = None
        while True:
            params = {"limit": str(page_size), **({"cursor": cursor} if cursor else {})}
            page = self._json("GET", "/admin/users", params=params)
            yield from (AdminUser.from_json(item) for item in page["items"])
            cursor = page.get("cursor")
            if not cursor:
                return

    def set_user_quota(self, user_id: str, quota_bytes: int) -> AdminUser:
        body = {"quota_bytes": quota_bytes}
        data = self._json("PUT", f"/admin/users/{quote(user_id)}/quota", json=body)
        return AdminUser.from_json(data)

    def set_user_enabled(self, user_id: str, enabled: bool) -> AdminUser:
        action = "enable" if enabled else "disable"
        return AdminUser.from_json(self._json("POST", f"/admin/users/{quote(user_id)}/{action}"))
