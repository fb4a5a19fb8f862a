"""Lambda entry points, one per route group (``backend.api.lambdas.<group>``).

Services come from the environment exactly as the workflow steps build them, so an API
function sees the processed bucket, the notifications topic and the share workflow too.
"""

from __future__ import annotations

from backend.api.app import make_handler
from backend.workflows.runtime import services_from_env

uploads = make_handler(services_from_env, "uploads")
files = make_handler(services_from_env, "files")
shares = make_handler(services_from_env, "shares")
public = make_handler(services_from_env, "public")
account = make_handler(services_from_env, "account")
notifications = make_handler(services_from_env, "notifications")
admin = make_handler(services_from_env, "admin")
