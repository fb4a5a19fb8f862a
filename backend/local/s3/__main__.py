"""Run the file-backed S3 server alone: ``python -m backend.local.s3 --root DIR``.

Binds 127.0.0.1 only and does no authentication (that is the stack front's
job), so it is for tests, benchmarks and debugging. Prints ``port <n>`` once
listening.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .app import S3App
from .serving import make_s3_server
from .store import ObjectStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.local.s3", description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="data directory")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--min-part-size", type=int, default=5 * 1024 * 1024)
    parser.add_argument("--bucket", action="append", default=[], help="create if missing")
    args = parser.parse_args(argv)
    store = ObjectStore(args.root, min_part_size=args.min_part_size)
    existing = {bucket.name for bucket in store.list_buckets()}
    for name in args.bucket:
        if name not in existing:
            store.create_bucket(name)
    server = make_s3_server(S3App(store), "127.0.0.1", args.port)
    print(f"port {server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
