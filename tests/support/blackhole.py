"""A peer that hangs: a loopback TCP server that accepts every connection and never answers. The
way a firewalled or wedged backend looks to a client, for proving every outbound call has a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def black_hole() -> AsyncIterator[int]:
    """Yields the port. Connections are held open, unread, until the block ends."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
