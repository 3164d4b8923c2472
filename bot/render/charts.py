"""PNG charts for Slack uploads, drawn with matplotlib's Agg backend.

Uses `matplotlib.figure.Figure` directly, never pyplot: pyplot keeps global figure state that is not safe
across threads. Drawing takes tens of milliseconds of CPU, so async callers run it in a thread:
`await asyncio.to_thread(volume_chart, entity, volumes, settings.charts_dir)`.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bot.foundation.ports import DailyVolume

_BAR = "#2f6fb0"
_WEEKEND = "#8fb3d9"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def chart_path(entity: str, volumes: Sequence[DailyVolume], out_dir: Path) -> Path:
    """Same entity and days → same file, so a repeated request can reuse the upload."""
    span = f"{volumes[0].day:%Y%m%d}-{volumes[-1].day:%Y%m%d}" if volumes else "empty"
    return out_dir / f"volume-{_SAFE_NAME.sub('_', entity)}-{span}.png"


def volume_chart(entity: str, volumes: Sequence[DailyVolume], out_dir: Path) -> Path:
    """Bar chart of rows loaded per UTC day; weekends lighter, since volume dips there by design."""
    path = chart_path(entity, volumes, out_dir)
    fig = Figure(figsize=(8, 3.2), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    days = [v.day for v in volumes]
    x = [float(day.toordinal()) for day in days]
    colors = [_WEEKEND if day.weekday() >= 5 else _BAR for day in days]
    ax.bar(x, [v.rows for v in volumes], color=colors, width=0.8)
    ax.set_title(f"{entity}: rows loaded per day (UTC)", loc="left", fontsize=11)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    mondays = [(pos, day) for pos, day in zip(x, days, strict=True) if day.weekday() == 0]
    ax.set_xticks([pos for pos, _ in mondays], labels=[f"{day:%a %d %b}" for _, day in mondays])
    ax.tick_params(labelsize=8)
    if volumes:
        ax.set_xlim(x[0] - 1, x[-1] + 1)
    else:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="grey")
    out_dir.mkdir(parents=True, exist_ok=True)
    # Write then rename: two requests for the same chart must never upload a half-written file.
    fd, partial = tempfile.mkstemp(dir=out_dir, prefix=f".{path.name}.", suffix=".partial")
    with os.fdopen(fd, "wb") as file:
        fig.savefig(file, format="png", metadata={"Software": None})
    os.replace(partial, path)
    return path
