"""Volume charts: a real PNG with a name that depends only on what it shows."""

from __future__ import annotations

import asyncio
import struct
from datetime import date, timedelta
from pathlib import Path

from bot.foundation.ports import DailyVolume
from bot.render.charts import volume_chart

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def thirty_days(rows: int = 5000) -> list[DailyVolume]:
    first = date(2026, 10, 28)
    return [DailyVolume(first + timedelta(days=i), 0 if i > 26 else rows + 97 * i) for i in range(30)]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_png_named_after_entity_and_days(tmp_path: Path) -> None:
    path = volume_chart("payment", thirty_days(), tmp_path)

    assert path == tmp_path / "volume-payment-20261028-20261126.png"
    assert png_size(path) == (800, 320)


def test_same_data_draws_the_same_bytes(tmp_path: Path) -> None:
    first = volume_chart("payment", thirty_days(), tmp_path / "a").read_bytes()
    second = volume_chart("payment", thirty_days(), tmp_path / "b").read_bytes()

    assert first == second
    assert volume_chart("payment", thirty_days(rows=9000), tmp_path / "c").read_bytes() != first


def test_entity_name_cannot_leave_the_chart_directory(tmp_path: Path) -> None:
    path = volume_chart("../../etc/passwd x", thirty_days(), tmp_path)

    assert path.parent == tmp_path
    assert path.name == "volume-_etc_passwd_x-20261028-20261126.png"


def test_no_days_still_draws_a_chart(tmp_path: Path) -> None:
    assert png_size(volume_chart("user", [], tmp_path)) == (800, 320)


async def test_concurrent_draws_from_threads_leave_one_whole_file(tmp_path: Path) -> None:
    volumes = thirty_days()

    paths = await asyncio.gather(
        *(asyncio.to_thread(volume_chart, "user", volumes, tmp_path) for _ in range(4))
    )

    assert len(set(paths)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [paths[0].name]
    assert png_size(paths[0]) == (800, 320)
