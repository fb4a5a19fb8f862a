"""Names of the CloudFormation outputs the desktop reads (``cdk deploy --outputs-file``).

No CDK import here: ``filevault profile import-cdk-outputs`` uses these names too.
"""

from __future__ import annotations

from typing import Final

API_URL: Final = "ApiUrl"
REGION: Final = "Region"
USER_POOL_ID: Final = "UserPoolId"
USER_POOL_CLIENT_ID: Final = "UserPoolClientId"
UPLOAD_BUCKET: Final = "UploadBucketName"
PROCESSED_BUCKET: Final = "ProcessedBucketName"
ANALYTICS_BUCKET: Final = "AnalyticsBucketName"
SHARE_BASE_URL: Final = "ShareBaseUrl"
TABLE: Final = "TableName"

# What a profile cannot work without.
REQUIRED: Final = (API_URL, REGION, USER_POOL_ID, USER_POOL_CLIENT_ID)
