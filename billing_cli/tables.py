"""Plain-text tables for the terminal (`billing status`, the demo summary)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .currency import MONEY_SCALE, exact_text


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        if value.as_tuple().exponent == -MONEY_SCALE:
            return exact_text(value, 2)  # money (D70), whatever its currency: exact, with cents at least
        return format(value, "f")
    return str(value)


def render_table(headers: list[str], rows: list[tuple], indent: str = "  ", right: frozenset[int] = frozenset()) -> str:
    """Columns padded to their widest cell; numbers (and the columns in `right`, e.g. amounts already
    formatted in their currency) right-aligned, text left-aligned."""
    texts = [[cell(v) for v in row] for row in rows]
    numeric = [
        i in right or (all(isinstance(row[i], (int, float, Decimal)) or row[i] is None for row in rows) and bool(rows))
        for i in range(len(headers))
    ]
    widths = [max([len(h)] + [len(t[i]) for t in texts]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out += [line(t) for t in texts]
    return "\n".join(out)
