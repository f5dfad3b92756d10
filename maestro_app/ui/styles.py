"""Design tokens of the dashboard: one place for colours, sizes and shared styles."""

from __future__ import annotations

from typing import Any

import reflex as rx

ACCENT = "iris"
GRAY = "slate"
RADIUS = "large"

FONT_FAMILY = "Inter, ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
MONO_FONT_FAMILY = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"

border_radius = "var(--radius-3)"
border = f"1px solid {rx.color('gray', 5)}"
text_color = rx.color("gray", 12)
muted_text_color = rx.color("gray", 11)
accent_text_color = rx.color("accent", 11)
accent_bg_color = rx.color("accent", 3)
hover_bg_color = rx.color("gray", 3)
sidebar_bg_color = rx.color("gray", 2)
page_bg_color = rx.color("gray", 1)

sidebar_width = "15rem"
navbar_height = "3.5rem"
content_max_width = "1280px"

# Health status → Radix colour scheme of its badge.
HEALTH_COLORS: dict[str, str] = {"healthy": "grass", "unhealthy": "tomato", "unknown": "gray"}

base_style: dict[Any, Any] = {"font_family": FONT_FAMILY}

page_content_style: dict[str, Any] = {
    "width": "100%",
    "max_width": content_max_width,
    "margin_x": "auto",
    "padding_x": ["1rem", "1.5rem", "2rem"],
    "padding_y": "1.5rem",
    "spacing": "5",
}

card_style: dict[str, Any] = {"width": "100%", "padding": "1.25rem"}

code_style: dict[str, Any] = {
    "font_family": MONO_FONT_FAMILY,
    "font_size": "0.8125rem",
}


def theme() -> rx.Component:
    return rx.theme(accent_color=ACCENT, gray_color=GRAY, radius=RADIUS, scaling="100%")
