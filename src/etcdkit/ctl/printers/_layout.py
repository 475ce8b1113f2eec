"""Text layout engines etcdctl's output goes through.

* ``tabwriter(text)``: Go's ``text/tabwriter`` with etcdctl's settings
  (minwidth 1, tabwidth 8, padding 1, padchar ``\\t``): tab-terminated cells are
  aligned per column block and padded with tabs.
* ``table(header, rows)``: ``olekukonko/tablewriter`` as etcdctl configures it
  (auto-formatted centred header, right-aligned cells, words wrapped at 30
  columns, ``+---+`` borders).
"""

from __future__ import annotations

import unicodedata

__all__ = ["table", "tabwriter"]

_TABWIDTH = 8


def _width(s: str) -> int:
    return len(s)


def tabwriter(text: str, minwidth: int = 1, padding: int = 1) -> str:
    """Align ``text`` as Go's tabwriter with padchar ``\\t`` would when flushed."""
    lines = text.split("\n")
    # cells: every tab-terminated segment is a cell; the trailing segment is free text.
    cells = [line.split("\t") for line in lines]
    widths: list[int] = []
    out: list[str] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            row = cells[i]
            parts: list[str] = []
            for j, c in enumerate(row):
                parts.append(c)
                if j < len(widths) and j < len(row) - 1:
                    cellw = (widths[j] + _TABWIDTH - 1) // _TABWIDTH * _TABWIDTH
                    n = cellw - _width(c)
                    parts.append("\t" * ((n + _TABWIDTH - 1) // _TABWIDTH))
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(cells[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1:
                row = cells[this]
                if column >= len(row) - 1:
                    break
                width = max(width, _width(row[column]) + padding)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    fmt(0, len(cells))
    return "\n".join(out)


def _display_width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _wrap(s: str, limit: int = 30) -> list[str]:
    """tablewriter's WrapString: greedy word wrap on spaces; long words stay whole."""
    words = s.split()
    if not words:
        return [s]
    lines: list[str] = []
    cur = ""
    for w in words:
        if not cur:
            cur = w
        elif _display_width(cur) + 1 + _display_width(w) <= limit:
            cur += " " + w
        else:
            lines.append(cur)
            cur = w
    lines.append(cur)
    return lines


def _title(name: str) -> str:
    return name.replace("_", " ").replace(".", " ").strip().upper()


def table(header: list[str], rows: list[list[str]]) -> str:
    """Render like tablewriter with ``SetHeader``, ``Append`` and ``SetAlignment(ALIGN_RIGHT)``; ends in ``\\n``."""
    hdr = [_title(h) for h in header]
    wrapped = [[_wrap(c) if _display_width(c) > 30 else [c] for c in row] for row in rows]
    ncol = len(hdr)
    widths = [_display_width(h) for h in hdr]
    for row in wrapped:
        for j, cell in enumerate(row):
            for line in cell:
                widths[j] = max(widths[j], _display_width(line))
    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [sep]
    hcells = []
    for j, h in enumerate(hdr):
        gap = widths[j] - _display_width(h)
        left = gap // 2
        hcells.append(" " * left + h + " " * (gap - left))
    out.append("| " + " | ".join(hcells) + " |")
    out.append(sep)
    for row in wrapped:
        height = max((len(c) for c in row), default=1)
        for k in range(height):
            cs = []
            for j in range(ncol):
                cell = row[j] if j < len(row) else [""]
                text = cell[k] if k < len(cell) else ""
                cs.append(" " * (widths[j] - _display_width(text)) + text)
            out.append("| " + " | ".join(cs) + " |")
    out.append(sep)
    return "\n".join(out) + "\n"
