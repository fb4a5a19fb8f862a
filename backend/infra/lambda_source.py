"""The Lambda code asset: the ``backend`` package without the CDK app and the local stack.

The handlers need only the standard library and boto3 (in the Lambda runtime), so the asset
is the source itself: no Docker bundling, no network at synth time.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

BACKEND_DIR = Path(__file__).resolve().parent.parent
# Sub-packages that never run in Lambda.
_EXCLUDED = frozenset({"infra", "local"})
_SUFFIXES = frozenset({".py", ".json", ".yaml"})


def _files() -> list[Path]:
    found = []
    for path in sorted(BACKEND_DIR.rglob("*")):
        rel = path.relative_to(BACKEND_DIR)
        if not path.is_file() or path.suffix not in _SUFFIXES:
            continue
        if rel.parts[0] in _EXCLUDED or "__pycache__" in rel.parts:
            continue
        found.append(path)
    return found


def staged_source() -> str:
    """A directory holding ``backend/...``, named by its content hash (stable across synths)."""
    files = _files()
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(BACKEND_DIR)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    root = Path(tempfile.gettempdir()) / f"filevault-lambda-src-{digest.hexdigest()[:16]}"
    if not (root / ".complete").exists():
        work = Path(tempfile.mkdtemp(prefix="filevault-lambda-src-"))
        for path in files:
            target = work / "backend" / path.relative_to(BACKEND_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        (work / ".complete").write_text("ok\n", "utf-8")
        try:
            work.rename(root)
        except OSError:  # another synth staged the same content first
            shutil.rmtree(work, ignore_errors=True)
    return str(root)
