"""Request log page: the filter form, the table and the detail dialog (state in `logs`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from maestro_app.ui import routes, styles
from maestro_app.ui.components.widgets import empty_state, loading_rows, page_header, pager, refresh_button
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.logs import PAGE_SIZE, SOURCES, STATUS_CLASSES, DetailField, LogRow, LogsState

MUTED = {"size": "1", "color": styles.muted_text_color}

# -- filters ----------------------------------------------------------------------------


def labelled(label: str, control: rx.Component, html_for: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=html_for, size="1", weight="medium"),
        control,
        spacing="1",
        width="100%",
    )


def text_filter(name: str, label: str, placeholder: str, suggestions: rx.Var[list[str]]) -> rx.Component:
    element_id = f"filter-{name}"
    return labelled(
        label,
        rx.fragment(
            rx.input(
                name=name,
                id=element_id,
                default_value=LogsState.filters[name],
                placeholder=placeholder,
                auto_complete="off",
                custom_attrs={"list": f"{element_id}-options"},
                width="100%",
            ),
            rx.el.datalist(
                rx.foreach(suggestions, lambda n: rx.el.option(value=n)), id=f"{element_id}-options"
            ),
        ),
        element_id,
    )


def choice_filter(name: str, label: str, choices: tuple[str, ...]) -> rx.Component:
    element_id = f"filter-{name}"
    return labelled(
        label,
        rx.select(
            list(choices),
            name=name,
            default_value=rx.cond(LogsState.filters[name] != "", LogsState.filters[name], "any"),
            id=element_id,
            width="100%",
        ),
        element_id,
    )


def moment_filter(name: str, label: str) -> rx.Component:
    element_id = f"filter-{name}"
    return labelled(
        label,
        rx.input(
            name=name,
            id=element_id,
            type="datetime-local",
            default_value=LogsState.filters[name],
            width="100%",
        ),
        element_id,
    )


def filter_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.grid(
                text_filter("user", "User", "any user", LogsState.user_names),
                text_filter("model", "Model", "asked or served name", LogsState.model_names),
                text_filter("node", "Node", "any node", LogsState.node_names),
                choice_filter("source", "Source", SOURCES),
                choice_filter("status", "Status", STATUS_CLASSES),
                moment_filter("start", "From (UTC)"),
                moment_filter("end", "To (UTC)"),
                rx.hstack(
                    rx.button(rx.icon("filter", size=16), "Apply", type="submit", id="apply-filters"),
                    rx.button(
                        "Clear",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=LogsState.clear_filters,
                        id="clear-filters",
                    ),
                    align="end",
                    height="100%",
                    spacing="2",
                ),
                columns=rx.breakpoints(initial="1", xs="2", md="4"),
                spacing="3",
                width="100%",
                align="end",
            ),
            width="100%",
        ),
        on_submit=LogsState.apply_filters,
        reset_on_submit=False,
        key=LogsState.form_key,
        width="100%",
        id="log-filters",
    )


# -- table ------------------------------------------------------------------------------


def model_cell(row: rx.Var[LogRow]) -> rx.Component:
    """The model asked for (and the one served, when a mapping renamed it), on which node."""
    return rx.vstack(
        rx.text(row.model, size="2", white_space="nowrap"),
        rx.text(
            rx.cond(row.real_model != "", "→ " + row.real_model + " ", ""),
            rx.cond(row.node != "", "on " + row.node, ""),
            **MUTED,
            white_space="nowrap",
        ),
        spacing="0",
    )


def log_row(row: rx.Var[LogRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.when, size="2", white_space="nowrap")),
        rx.table.cell(
            rx.badge(row.status, color_scheme=row.status_color, variant="soft", class_name="status")
        ),
        rx.table.cell(rx.text(row.username, size="2", white_space="nowrap"), class_name="user"),
        rx.table.cell(model_cell(row)),
        rx.table.cell(
            rx.vstack(
                rx.code(row.endpoint, size="1", variant="ghost", color_scheme="gray", white_space="nowrap"),
                rx.text(row.source, rx.cond(row.stream, " · stream", ""), **MUTED, white_space="nowrap"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(row.tokens, rx.cond(row.estimated, " ~", ""), size="2", white_space="nowrap"),
                rx.text(row.duration, **MUTED, white_space="nowrap"),
                spacing="0",
                align="end",
            ),
        ),
        id="log-" + row.request_id,
        class_name="log-row",
        on_click=LogsState.open_detail(row.request_id),
        cursor="pointer",
        _hover={"background_color": styles.hover_bg_color},
        align="center",
    )


def logs_table() -> rx.Component:
    headers = ("Time (UTC)", "Status", "User", "Model · node", "Endpoint · source", "Tokens · time")
    table = rx.table.root(
        rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in headers))),
        rx.table.body(rx.foreach(LogsState.rows, log_row)),
        variant="ghost",
        size="1",
        width="100%",
    )
    empty = rx.cond(
        LogsState.filtered,
        empty_state("search-x", "No request matches these filters.", "Widen the filters or clear them."),
        empty_state("scroll-text", "No requests yet.", "Every request the gateway routes is logged here."),
    )
    return rx.card(
        rx.vstack(
            filter_form(),
            rx.separator(),
            rx.hstack(
                rx.text(
                    LogsState.total, " requests", size="2", color=styles.muted_text_color, id="log-total"
                ),
                rx.spacer(),
                rx.text("Click a row for its details.", **MUTED),
                width="100%",
                align="center",
            ),
            rx.cond(
                LogsState.loaded,
                rx.cond(
                    LogsState.rows.length() > 0,
                    rx.scroll_area(table, type="hover", scrollbars="horizontal"),
                    empty,
                ),
                loading_rows(),
            ),
            pager(
                offset=LogsState.offset,
                total=LogsState.total,
                page_size=PAGE_SIZE,
                on_prev=LogsState.prev_page,
                on_next=LogsState.next_page,
            ),
            spacing="3",
            width="100%",
        ),
        **styles.card_style,
    )


# -- detail -----------------------------------------------------------------------------


def detail_item(item: rx.Var[DetailField]) -> rx.Component:
    return rx.data_list.item(
        rx.data_list.label(item.label, min_width="9rem"),
        rx.data_list.value(rx.text(item.value, size="2", word_break="break-word")),
    )


def detail_dialog() -> rx.Component:
    close: dict[str, Any] = {"variant": "soft", "color_scheme": "gray"}
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Request"),
            rx.dialog.description(
                "What the gateway recorded; request and answer bodies are not kept.",
                size="2",
                color=styles.muted_text_color,
                margin_bottom="1rem",
            ),
            rx.data_list.root(
                rx.foreach(LogsState.detail, detail_item),
                size="2",
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            rx.hstack(
                rx.button(
                    rx.icon("copy", size=14),
                    "Copy request id",
                    variant="soft",
                    on_click=[rx.set_clipboard(LogsState.detail_id), rx.toast.success("Request id copied")],
                ),
                rx.dialog.close(rx.button("Close", **close, id="close-detail")),
                justify="end",
                spacing="3",
                margin_top="1rem",
                width="100%",
            ),
            max_width="40rem",
            id="log-detail",
        ),
        open=LogsState.detail_open,
        on_open_change=LogsState.set_detail_open,
    )


@template(route=routes.LOGS, title="Request logs", on_load=LogsState.load)
def logs_page() -> rx.Component:
    return rx.fragment(
        page_header(
            "Request logs",
            "Every request the gateway routed, newest first.",
            refresh_button(LogsState.refresh),
        ),
        logs_table(),
        detail_dialog(),
    )


page: Page = logs_page
