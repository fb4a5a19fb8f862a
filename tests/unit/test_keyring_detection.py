"""Finding the keychain does not search for macOS frameworks off macOS (keyring's macOS
backend asks for them at import; each search runs ldconfig and gcc), and finds the same
backend keyring finds on its own. Each run needs a fresh interpreter: keyring detects once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_RECORD = """
import ctypes.util, sys
asked = []
search = ctypes.util.find_library
ctypes.util.find_library = lambda name: asked.append(name) or search(name)
{call}
print(type(backend).__module__ + "." + type(backend).__qualname__)
print(",".join(asked))
"""


def _run(call: str) -> tuple[str, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", _RECORD.format(call=call)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        # Detection, not the backend the tests choose.
        env={k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"},
    ).stdout.splitlines()
    return out[0], [name for name in out[1].split(",") if name] if len(out) > 1 else []


@pytest.mark.skipif(sys.platform == "darwin", reason="the frameworks are searched on macOS")
def test_the_keychain_is_found_without_searching_for_macos_frameworks() -> None:
    ours, asked = _run(
        "from filevault_desktop.auth.token_store import _usable_backend\n"
        "backend = _usable_backend()"
    )
    theirs, asked_by_keyring = _run("import keyring\nbackend = keyring.get_keyring()")
    assert "Security" in asked_by_keyring  # what this avoids
    assert not {"Security", "CoreServices", "Foundation"} & set(asked)
    assert ours == theirs
