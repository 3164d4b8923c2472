"""A throwaway PostgreSQL cluster of the test's own, for fault tests that stop and start the database
under running replicas: the shared server on 5432 is never touched (other tests use it).

Built with the Debian server binaries (`/usr/lib/postgresql/<version>/bin`: initdb, pg_ctl) in a temp
directory, listening on a free loopback port, trust auth. Missing binaries skip the test with a message
naming them. PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.

    async with private_postgres() as pg:
        url = pg.url                # postgresql+asyncpg://postgres@127.0.0.1:<port>/postgres
        await pg.stop(); await pg.start()
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import pytest

from tests.support.replicas import free_port

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
RUN_AS = "postgres"  # initdb and postgres refuse root
TIMEOUT_S = 60


class PrivatePostgres:
    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir, self.data, self.port = bin_dir, root / "data", free_port()
        self.log = root / "postgres.log"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    async def initdb(self) -> None:
        await self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    async def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data} -c fsync=off"
        await self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    async def stop(self) -> None:
        """A fast shutdown: sessions are disconnected at once, as when the database restarts."""
        await self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    async def _run(self, tool: str, *args: str) -> None:
        argv = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", RUN_AS, "--", *argv]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        async with asyncio.timeout(TIMEOUT_S):
            out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} failed ({proc.returncode}): {out.decode(errors='replace')[-2000:]}")


@asynccontextmanager
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    """A fresh cluster in a temp directory of its own, stopped and deleted at the end."""
    if not BINARIES or not (BINARIES[0] / "initdb").is_file():
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="amd-pg-"))  # under /tmp: the cluster's user can reach it
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(RUN_AS)
        except KeyError:
            pytest.skip(f"running as root and there is no `{RUN_AS}` user for PostgreSQL to run as")
        shutil.chown(root, user.pw_uid, user.pw_gid)
    pg = PrivatePostgres(BINARIES[0], root)
    try:
        await pg.initdb()
        await pg.start()
        yield pg
    finally:
        with suppress(RuntimeError):
            await pg.stop()
        shutil.rmtree(root, ignore_errors=True)
