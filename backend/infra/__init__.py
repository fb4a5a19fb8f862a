"""The AWS CDK v2 app of the FileVault backend (``python -m backend.infra.app``).

``outputs`` has no CDK import, so the desktop can read the output names without aws-cdk-lib.
"""
