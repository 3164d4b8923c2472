"""Golden files pin rendered output. Regenerate after an intended change with AMD_UPDATE_GOLDEN=1."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"


def assert_golden(name: str, data: Any) -> None:
    path = GOLDEN_DIR / name
    rendered = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n"
    if os.environ.get("AMD_UPDATE_GOLDEN") == "1" or not path.exists():
        path.write_text(rendered)
    assert json.loads(path.read_text()) == json.loads(rendered), (
        f"{name} differs; AMD_UPDATE_GOLDEN=1 to accept"
    )
