"""The one place for colours, spacing and shared component styles."""

import reflex as rx

ACCENT = "violet"
GRAY = "slate"

PAGE_MAX_WIDTH = "1200px"
SPACING = "5"  # radix spacing step between page sections
CARD_PADDING = "1.25em"

# Chart colours read well on light and dark backgrounds (plotly cannot use CSS variables).
CHART_ACCENT = "#7c66dc"
CHART_FORECAST = "#b0a4ec"
CHART_BAND = "rgba(124, 102, 220, 0.15)"
CHART_RECORDED = "#8e8c99"  # what-if: spend as it was, next to the accent "with the switch"
CHART_PALETTE = ["#7c66dc", "#3e9ed8", "#30a46c", "#f76b15", "#e54666", "#8e8c99"]

# Budget bar colour by how much of the budget is spent (or forecast to be).
BUDGET_OK = "grass"
BUDGET_WARNING = "amber"
BUDGET_EXCEEDED = "red"

theme = rx.theme(accent_color=ACCENT, gray_color=GRAY, radius="large", scaling="100%")

base_style: dict = {
    "font_family": "Inter, system-ui, -apple-system, 'Segoe UI', sans-serif",
}

card_style: dict = {
    "padding": CARD_PADDING,
    "width": "100%",
    "border": f"1px solid {rx.color('gray', 5)}",
    "border_radius": "12px",
    "background": rx.color("gray", 1),
    "box_shadow": "0 1px 2px rgba(0, 0, 0, 0.04)",
}

muted_text: dict = {"color": rx.color("gray", 11), "size": "2"}

page_style: dict = {
    "width": "100%",
    "max_width": PAGE_MAX_WIDTH,
    "margin_x": "auto",
    "padding_x": ["1em", "1.5em", "2em"],
    "padding_y": "1.5em",
}

header_style: dict = {
    "width": "100%",
    "padding_x": ["1em", "1.5em", "2em"],
    "padding_y": "0.75em",
    "border_bottom": f"1px solid {rx.color('gray', 4)}",
    "background": rx.color("gray", 1),
    "position": "sticky",
    "top": "0",
    "z_index": "10",
}

auth_card_style: dict = {
    **card_style,
    "max_width": "400px",
    "padding": "2em",
}

mono: dict = {"font_family": "ui-monospace, SFMono-Regular, Menlo, monospace"}
