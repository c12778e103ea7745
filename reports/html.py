"""Self-contained HTML from plain pieces: escaped text, tables, embedded figures, one page.

A page built here needs nothing beside it: figures are embedded as base64 PNG, the style sheet
is inline, and nothing needs JavaScript. Text is escaped unless it is wrapped in `Raw` (HTML
built by these functions already is). Output is deterministic: the same pieces give the same
bytes, so a report regenerated from the same data is identical.

>>> table(["a", "b"], [["1 < 2", Raw("<b>x</b>")]]).count("<td")
2
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CSS",
    "Raw",
    "breakable",
    "escape",
    "figure",
    "figure_link",
    "figure_png",
    "page",
    "percent",
    "section",
    "table",
]

#: Pixel density figures are rendered at; shown at 96 px per inch, so they stay sharp when
#: zoomed or on high-density screens.
DPI = 144
_CSS_PX_PER_INCH = 96


class Raw(str):
    """Text that is already HTML and must not be escaped again."""

    __slots__ = ()


def escape(value: Any) -> str:
    """``value`` as HTML text: `Raw` passes through, anything else is converted and escaped."""
    if isinstance(value, Raw):
        return str(value)
    return html.escape(str(value), quote=True)


def figure_png(fig: Figure, dpi: int | None = None) -> bytes:
    """``fig`` rendered as PNG bytes (Agg; no timestamp or software tag, so bytes repeat).

    ``dpi`` defaults to the module's `DPI`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="png", dpi=dpi or DPI, metadata={"Software": None}, facecolor="white"
    )
    return buffer.getvalue()


def figure(fig: Figure, alt: str, caption: str | None = None, *, gid: str = "") -> Raw:
    """A ``<figure>`` holding ``fig`` as an embedded PNG, with ``alt`` text and a caption."""
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    width = round(fig.get_figwidth() * _CSS_PX_PER_INCH)
    ident = f' id="{escape(gid)}"' if gid else ""
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Raw(
        f'<figure{ident}><img alt="{escape(alt)}" width="{width}" '
        f'src="data:image/png;base64,{data}">{cap}</figure>'
    )


def figure_link(src: str, alt: str, width: float, caption: str | None = None) -> Raw:
    """A ``<figure>`` showing the image file ``src`` (relative to the page), linked to it."""
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Raw(
        f'<figure><a href="{escape(src)}"><img alt="{escape(alt)}" width="{round(width)}" '
        f'src="{escape(src)}"></a>{cap}</figure>'
    )


def table(
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] | None = None,
    css_class: str = "",
) -> Raw:
    """An HTML table; columns listed in ``numeric`` are right-aligned (and tabular)."""
    num = set(numeric)

    def cell(tag: str, i: int, value: Any) -> str:
        cls = ' class="num"' if i in num else ""
        return f"<{tag}{cls}>{escape(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = []
    for k, row in enumerate(rows):
        cls = f' class="{escape(row_classes[k])}"' if row_classes and row_classes[k] else ""
        body.append(f"<tr{cls}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    table_cls = f' class="{escape(css_class)}"' if css_class else ""
    return Raw(
        f"<table{table_cls}><thead><tr>{head}</tr></thead><tbody>"
        + "\n".join(body)
        + "</tbody></table>"
    )


def percent(share: float) -> str:
    """A share as a table percentage: never 0 % for a miss that happened, nor 100 % short of
    all (clamped to 0.01-99.99 %), with a non-breaking space."""
    if share <= 0:
        return "0\u00a0%"
    if share >= 1:
        return "100\u00a0%"
    return f"{min(max(100 * share, 0.01), 99.99):.2f}\u00a0%"


def breakable(text: Any) -> Raw:
    """``text`` escaped, with a line-break opportunity after each comma and before each space:
    a long type (``ap_fixed<18,8,AP_RND,AP_SAT>``) wraps between its fields, not mid-word."""
    return Raw(escape(text).replace(",", ",<wbr>"))


def section(ident: str, title: str, *parts: Any) -> Raw:
    """``<section id=ident>`` with a heading; string parts become paragraphs, `Raw` stays."""
    body = [f'<section id="{escape(ident)}"><h2>{escape(title)}</h2>']
    for part in parts:
        if part is None or part == "":
            continue
        body.append(str(part) if isinstance(part, Raw) else f"<p>{escape(part)}</p>")
    body.append("</section>")
    return Raw("\n".join(body))


def page(title: str, body: Iterable[Any], nav: Sequence[tuple[str, str]] = ()) -> str:
    """A whole HTML document: ``title``, an optional table of contents, then ``body``."""
    links = "".join(f'<a href="#{escape(i)}">{escape(t)}</a>' for i, t in nav)
    nav_html = f"<nav>{links}</nav>" if nav else ""
    content = "\n".join(str(b) if isinstance(b, Raw) else f"<p>{escape(b)}</p>" for b in body)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>\n"
        f"<body>{nav_html}<main>\n{content}\n</main></body></html>\n"
    )


CSS = """
:root { --ink: #1a202c; --muted: #5a6473; --line: #e2e6ea; --good: #2f855a;
        --bad: #c62828; --warn: #b7791f; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
       sans-serif; color: var(--ink); background: #f6f7f9; }
main { max-width: 1320px; margin: 0 auto; padding: 8px 28px 48px; }
nav { position: sticky; top: 0; z-index: 1; background: #fff; border-bottom: 1px solid
      var(--line); padding: 8px 28px; display: flex; flex-wrap: wrap; gap: 4px 18px;
      font-size: 13.5px; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
h1 { font-size: 26px; margin: 18px 0 4px; }
h2 { font-size: 20px; margin: 0 0 10px; }
h3 { font-size: 16px; margin: 14px 0 6px; }
section, header.summary { background: #fff; border: 1px solid var(--line); border-radius: 8px;
        padding: 18px 22px; margin: 16px 0; }
p { margin: 6px 0; }
.muted, figcaption { color: var(--muted); font-size: 13.5px; }
figure { margin: 10px 0; }
figure img { max-width: 100%; height: auto; display: block; }
.badge { display: inline-block; padding: 3px 12px; border-radius: 999px; font-weight: 600;
         color: #fff; font-size: 14px; vertical-align: middle; }
.badge.good { background: var(--good); } .badge.bad { background: var(--bad); }
.badge.warn { background: var(--warn); }
.facts { display: flex; flex-wrap: wrap; gap: 10px 28px; margin: 12px 0; }
.fact { min-width: 150px; }
.fact .label { color: var(--muted); font-size: 12.5px; text-transform: uppercase;
               letter-spacing: .04em; }
.fact .value { font-size: 22px; font-weight: 600; }
.headline { font-size: 16.5px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 12px; text-align: left;
         vertical-align: top; }
th { background: #f0f3f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tr.ours td { background: #ebf4ff; font-weight: 600; }
tr.bad td { color: var(--bad); }
code, .types td { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px;
                  overflow-wrap: anywhere; }
td { overflow-wrap: anywhere; }
table.types, #findings table { width: 100%; }
.types th, .types td { padding: 5px 8px; }
.types td { overflow-wrap: anywhere; }
.types td:first-child { font-family: inherit; font-weight: 600; font-size: 14px; }
.scroll { overflow-x: auto; }
.good { color: var(--good); } .bad { color: var(--bad); }
.badge.good, .badge.bad, .badge.warn { color: #fff; }
pre { background: #f0f3f6; padding: 10px 12px; border-radius: 6px; overflow-x: auto;
      font-size: 13px; }
"""
