"""Key design of the single metadata table.

Every item of a user lives under ``pk = U#<sub>`` (the path index under
``U#<sub>#P``, where the sort key is the bare path so that a path of the full
1024 bytes still fits DynamoDB's key limit), so a user can never address
another user's items: the partition comes from the verified JWT.

| pk / sk                    | item                                              |
|----------------------------|---------------------------------------------------|
| ``PROFILE``                | quota, bytes used, the change sequence (``seq``)  |
| ``F#<file_id>``            | current file record (active or trashed)           |
| pk ``U#<sub>#P``, sk path  | path index: copy of the active file's record      |
| ``T#<file_id>``            | trash index: copy of a trashed file's record      |
| ``V#<file_id>#<version>``  | one stored version (version ids sort by time)     |
| ``UP#<upload_id>``         | an upload session                                 |
| ``C#<seq>``                | the change feed, one item per change              |
| ``S#<share_id>``           | a share link; ``gsi1pk = T#<sha256(token)>``      |
| ``N#<notification_id>``    | notification inbox entry (ids sort by time; TTL)  |
| ``SUB#<subscription_id>``  | an email/SMS subscription to notifications        |
| ``A#<activity_id>``        | a download, for the analytics stream (short TTL)  |
| ``PURGE#<file_id>``        | a purged file whose bytes are still being deleted |
| ``DROP#<upload_id>``       | a dropped upload whose bytes are being deleted    |

Every mutation is one transaction that also bumps ``PROFILE.seq`` conditionally
and writes the matching ``C#`` item, so the change feed is gapless and ordered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from backend import naming

PROFILE = "PROFILE"


@dataclass(frozen=True)
class ItemKey:
    pk: str
    sk: str


def user_pk(user_id: str) -> str:
    return f"U#{user_id}"


def paths_pk(user_id: str) -> str:
    return f"U#{user_id}#P"


def profile(user_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), PROFILE)


def file(user_id: str, file_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"F#{file_id}")


def path(user_id: str, file_path: str) -> ItemKey:
    return ItemKey(paths_pk(user_id), file_path)


def trash(user_id: str, file_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"T#{file_id}")


def version(user_id: str, file_id: str, version_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"V#{file_id}#{version_id}")


def upload(user_id: str, upload_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"UP#{upload_id}")


def change(user_id: str, seq: int) -> ItemKey:
    return ItemKey(user_pk(user_id), f"C#{seq:016d}")


def share(user_id: str, share_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"S#{share_id}")


def notification(user_id: str, notification_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"N#{notification_id}")


def subscription(user_id: str, subscription_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"SUB#{subscription_id}")


def activity(user_id: str, activity_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"A#{activity_id}")


def purge(user_id: str, file_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"PURGE#{file_id}")


def dropped_upload(user_id: str, upload_id: str) -> ItemKey:
    return ItemKey(user_pk(user_id), f"DROP#{upload_id}")


def parse_blob_key(key: str) -> tuple[str, str, str] | None:
    """(user id, file id, version id) of a key made by :func:`blob_key`, else None."""
    parts = key.split("/")
    if len(parts) != 5 or parts[0] != "users" or parts[2] != "blobs" or not all(parts):
        return None
    return parts[1], parts[3], parts[4]


def blob_prefix(user_id: str, file_id: str) -> str:
    """The S3 prefix of every version's bytes of a file (see :func:`blob_key`)."""
    return f"{naming.USER_OBJECTS_PREFIX}{user_id}/blobs/{file_id}/"


def preview_prefix(user_id: str, file_id: str) -> str:
    """The processed-bucket prefix of every derived image of a file (see :func:`preview_key`)."""
    return f"users/{user_id}/previews/{file_id}/"


def preview_key(user_id: str, file_id: str, version_id: str, kind: str) -> str:
    """Processed-bucket key of a derived image (``thumbnail`` or ``preview``)."""
    return f"{preview_prefix(user_id, file_id)}{version_id}/{kind}.jpg"


def share_token_key(token: str) -> str:
    return "T#" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def blob_key(user_id: str, file_id: str, version_id: str) -> str:
    """S3 key of a version's bytes: addressed by file id, so renames never move bytes."""
    return f"{blob_prefix(user_id, file_id)}{version_id}"
