"""Monospace tables, shared by the Slack (inside ``` ```) and console renderers."""

from __future__ import annotations

from bot.render.message import Table


def format_table(table: Table) -> str:
    cells = [table.columns, *table.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]

    def line(row: tuple[str, ...]) -> str:
        padded = (
            cell.rjust(widths[i]) if i in table.align_right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(table.columns), rule, *(line(r) for r in table.rows)])
