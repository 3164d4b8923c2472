"""One amd-bot replica in an OS process of its own, for tests that need several on one PostgreSQL:
the real HTTP server and its scheduler (what `amd-bot serve --http` runs), with settings from a file.

    python -m tests.support.replica SETTINGS.json PORT
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot import runtime
from bot.foundation.settings import Settings


def start(
    settings: Settings, secrets: dict[str, str], workdir: Path, name: str
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a replica; returns the process (its log in `workdir/<name>.log`) and its port."""
    values: dict[str, Any] = {**settings.model_dump(mode="json"), **secrets}
    # JSON mode masks every SecretStr; the replica needs the real values.
    values.update(
        {name: value.get_secret_value() for name, value in settings if isinstance(value, SecretStr)}
    )
    config = workdir / f"{name}.json"
    config.write_text(json.dumps(values))
    port = _free_port()
    log = (workdir / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.replica", str(config), str(port)], stdout=log, stderr=log
    )
    return process, port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    config, port = sys.argv[1], int(sys.argv[2])
    settings = Settings.model_validate(json.loads(Path(config).read_text()))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
    )
    runtime.run(runtime.serve(settings, http=True, host="127.0.0.1", port=port))


if __name__ == "__main__":
    main()
