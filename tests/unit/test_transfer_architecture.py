"""The engine core stays free of HTTP libraries, AWS SDKs and Qt (only adapters may use them)."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_no_sdk() -> None:
    code = (
        "import sys, filevault_desktop.transfer, filevault_desktop.transfer.testing\n"
        "bad = [m for m in ('requests', 'urllib3', 'boto3', 'botocore', 'PySide6') "
        "if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
