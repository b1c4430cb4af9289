import base64
import html
import pathlib
from collections.abc import Sequence
from typing import Any

from pivot.adapters import fs

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
figure { margin: 0 0 2.5rem 0; }
figcaption { font-weight: 600; margin-bottom: .5rem; }
.images { display: flex; gap: 1.5rem; flex-wrap: wrap; }
.images div { text-align: center; }
"""


def render_svg(spec: dict[str, Any]) -> str:
    """A Vega-Lite spec drawn to SVG now, so the page needs no script and no network."""
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def _image(label: str, suffix: str, data: bytes) -> str:
    uri = f"data:{_MIME[suffix]};base64,{base64.b64encode(data).decode()}"
    return (
        f'<div><img src="{uri}" alt="{html.escape(label)}" style="max-width: 480px">'
        + f"<div>{html.escape(label)}</div></div>"
    )


class HtmlPage:
    """Plots rendered into one offline HTML page."""

    def write(
        self,
        path: pathlib.Path,
        title: str,
        figures: Sequence[tuple[str, dict[str, Any] | None, Sequence[tuple[str, str, bytes]]]],
    ) -> None:
        """Write ONE self-contained HTML page (charts as inline SVG, images as data URIs)."""
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
        ]
        for name, spec, images in figures:
            parts.append(f'<figure class="plot"><figcaption>{html.escape(name)}</figcaption>')
            if spec is not None:
                parts.append(f'<div class="chart">{render_svg(spec)}</div>')
            else:
                parts.append(
                    '<div class="images">' + "".join(_image(*i) for i in images) + "</div>"
                )
            parts.append("</figure>")
        parts.append("</body></html>\n")
        path.parent.mkdir(parents=True, exist_ok=True)
        fs.atomic_write_bytes(path, "\n".join(parts).encode())
