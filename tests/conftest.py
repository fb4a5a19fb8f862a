"""Test-wide settings: no real keychain, no AWS credentials from the machine, no network."""

from __future__ import annotations

import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="filevault-tests-")
# An explicit file keyring (as the product's error message suggests on headless machines).
os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, "xdg-data")
os.environ["FILEVAULT_HOME"] = os.path.join(_HOME, "home")
os.environ["FILEVAULT_STACK_DIR"] = os.path.join(_HOME, "stack")
for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "test-not-real"
os.environ["AWS_SECRET_ACCESS_KEY"] = "test-not-real"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
