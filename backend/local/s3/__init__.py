"""File-backed S3 data plane of the local stack: object store + S3 protocol WSGI app.

Typical wiring::

    store = ObjectStore(data_dir / "s3", on_object_created=dispatch_event)
    app = S3App(store)                      # trusts its caller: put SigV4 in front
    server = make_s3_server(front(app), "127.0.0.1", 0)
"""

from .app import CHUNK_VALIDATOR_ENVIRON, S3App
from .blobs import ObjectBody
from .chunked import AwsChunkedDecoder, ChunkValidator
from .errors import S3Error
from .ingest import IncomingBody
from .models import (
    BucketInfo,
    CompletedPart,
    DeleteResult,
    ObjectCreatedEvent,
    ObjectInfo,
    ObjectListing,
    PartInfo,
    PartListing,
    UploadInfo,
    UploadListing,
)
from .ranges import ByteRange, parse_range
from .serving import ContinueOnReadHandler, make_s3_server
from .store import ObjectStore

__all__ = [
    "CHUNK_VALIDATOR_ENVIRON",
    "AwsChunkedDecoder",
    "BucketInfo",
    "ByteRange",
    "ChunkValidator",
    "CompletedPart",
    "ContinueOnReadHandler",
    "DeleteResult",
    "IncomingBody",
    "ObjectBody",
    "ObjectCreatedEvent",
    "ObjectInfo",
    "ObjectListing",
    "ObjectStore",
    "PartInfo",
    "PartListing",
    "S3App",
    "S3Error",
    "UploadInfo",
    "UploadListing",
    "make_s3_server",
    "parse_range",
]
