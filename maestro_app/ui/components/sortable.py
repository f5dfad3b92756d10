"""`sortable_list`: reorder items by drag and drop (a local React component, no npm package).

    sortable_list(
        rx.foreach(State.rows, lambda row: sortable_item(card(row), item_id=row.id)),
        on_reorder=State.reorder,   # gets the new order as a list of item ids (strings)
    )

The browser does the dragging on its own (HTML5 drag and drop); the server hears of it once,
on drop. The item under the pointer shows where the dragged one will land.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import passthrough_event_spec

from maestro_app.ui import styles

DROP_MARK = f"inset 0 3px 0 0 {rx.color('accent', 9)}"
DROP_MARK_AFTER = f"inset 0 -3px 0 0 {rx.color('accent', 9)}"


class SortableList(rx.Component):
    """A `div` whose `[data-sort-id]` descendants are reordered by drag and drop."""

    library = rx.asset("sortable.jsx", shared=True).importable_path
    tag = "SortableList"

    on_reorder: rx.EventHandler[passthrough_event_spec(list[str])]


def sortable_list(*children: rx.Component, on_reorder: Any, **props: Any) -> rx.Component:
    style = {
        "display": "flex",
        "flex_direction": "column",
        "gap": "0.75rem",
        "width": "100%",
        "& [data-drop-position='before']": {"box_shadow": DROP_MARK},
        "& [data-drop-position='after']": {"box_shadow": DROP_MARK_AFTER},
        "& [data-dragging]": {"opacity": "0.45"},
    }
    return SortableList.create(*children, on_reorder=on_reorder, style=style, **props)


def sortable_item(child: rx.Component, *, item_id: Any, **props: Any) -> rx.Component:
    """One draggable entry of a `sortable_list`."""
    return rx.box(
        child,
        draggable=True,
        custom_attrs={"data-sort-id": item_id},
        border_radius=styles.border_radius,
        cursor="grab",
        width="100%",
        **props,
    )
