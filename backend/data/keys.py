"""Key design of the single metadata table.

Every item of a user lives under one partition, ``pk = U#<sub>``, so a user can
never address another user's items: the partition comes from the verified JWT.

| sk                         | item                                              |
|----------------------------|---------------------------------------------------|
| ``PROFILE``                | quota, bytes used, the change sequence (``seq``)  |
| ``F#<file_id>``            | current file record (active or trashed)           |
| ``P#<path>``               | path index: copy of the active file's record      |
| ``T#<file_id>``            | trash index: copy of a trashed file's record      |
| ``V#<file_id>#<version>``  | one stored version (version ids sort by time)     |
| ``UP#<upload_id>``         | an upload session                                 |
| ``C#<seq>``                | the change feed, one item per change              |
| ``S#<share_id>``           | a share link; ``gsi1pk = T#<sha256(token)>``      |

Every mutation is one transaction that also bumps ``PROFILE.seq`` conditionally
and writes the matching ``C#`` item, so the change feed is gapless and ordered.
"""

from __future__ import annotations

import hashlib

PROFILE = "PROFILE"


def user_pk(user_id: str) -> str:
    return f"U#{user_id}"


def file_sk(file_id: str) -> str:
    return f"F#{file_id}"


def path_sk(path: str) -> str:
    return f"P#{path}"


def trash_sk(file_id: str) -> str:
    return f"T#{file_id}"


def version_sk(file_id: str, version_id: str) -> str:
    return f"V#{file_id}#{version_id}"


def upload_sk(upload_id: str) -> str:
    return f"UP#{upload_id}"


def change_sk(seq: int) -> str:
    return f"C#{seq:016d}"


def share_sk(share_id: str) -> str:
    return f"S#{share_id}"


def share_token_key(token: str) -> str:
    return "T#" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def blob_key(user_id: str, file_id: str, version_id: str) -> str:
    """S3 key of a version's bytes: addressed by file id, so renames never move bytes."""
    return f"users/{user_id}/blobs/{file_id}/{version_id}"
