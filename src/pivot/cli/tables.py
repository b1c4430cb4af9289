from collections.abc import Sequence

from pivot.domain import metrics


def number(value: metrics.Value, precision: int) -> str:
    """A metric value for display: floats rounded to `precision` decimals, `—` for absent."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{round(value, precision)!r}"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def signed(value: float | None, precision: int, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{round(value, precision):+}{suffix}"


def render(header: Sequence[str], rows: Sequence[Sequence[str]], *, markdown: bool) -> str:
    """An aligned plain-text table, or a GitHub Markdown table."""
    if markdown:
        escaped = [[c.replace("|", "\\|") for c in r] for r in rows]
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in escaped]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    )
