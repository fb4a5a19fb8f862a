from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RESULTS = Path(os.environ.get("FILEVAULT_BENCH_DIR", "bench-results"))


def record(name: str, results: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2))
    print(f"\n== {name} ==")
    for key, value in results.items():
        print(f"  {key}: {value}")
