"""A minimal uploader for tests (the real transfer engine is filevault_desktop.transfer)."""

from __future__ import annotations

import requests

from filevault_desktop.api.models import RemoteFile
from filevault_desktop.service import FileVaultService

OCTET = {"Content-Type": "application/octet-stream"}


def upload_bytes(
    svc: FileVaultService, path: str, data: bytes, **expected: str | None
) -> RemoteFile:
    ticket = svc.api.initiate_upload(path, len(data), **expected)
    parts = []
    for part in ticket.parts:
        start = (part.part_number - 1) * ticket.part_size
        body = data[start : start + ticket.part_size] if ticket.mode == "multipart" else data
        response = requests.put(part.url, data=body, headers=OCTET, timeout=60)
        assert response.status_code == 200, response.text
        parts.append({"part_number": part.part_number, "etag": response.headers["ETag"].strip('"')})
    return svc.api.complete_upload(ticket.upload_id, parts if ticket.mode == "multipart" else None)


def download_bytes(svc: FileVaultService, file_id: str) -> bytes:
    response = requests.get(svc.api.download_url(file_id), timeout=60)
    assert response.status_code == 200, response.text
    return response.content
