"""A horizontal bar chart as inline SVG: no JavaScript, no styles (the CSP forbids inline ones),
only presentation attributes."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

ROW, LABEL_WIDTH, BAR_WIDTH = 22, 220, 300


def bar_chart(rows: list[tuple[str, int]], *, title: str = "Consumption") -> SafeString:
    if not rows:
        return mark_safe("")
    top = max(value for _, value in rows) or 1
    height = ROW * len(rows) + 10
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="{}" y="15" text-anchor="end" font-size="12" '
        'fill="currentColor">{}</text><rect x="{}" y="4" width="{}" height="14" '
        'fill="#0d6efd"></rect><text x="{}" y="15" font-size="12" fill="currentColor">{}</text>'
        "</g>",
        (
            (i * ROW, LABEL_WIDTH - 6, label[:32], LABEL_WIDTH, width, LABEL_WIDTH + width + 4,
             value)
            for i, (label, value, width) in enumerate(
                (label, value, max(int(BAR_WIDTH * value / top), 1)) for label, value in rows
            )
        ),
    )  # fmt: skip
    return format_html(
        '<svg role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}</svg>",
        title, LABEL_WIDTH + BAR_WIDTH + 60, height, title, bars,
    )  # fmt: skip
