// A list whose items are reordered by HTML5 drag and drop, with no npm dependency.
//
// Children carry `data-sort-id` and `draggable`; while one is dragged, the item under the
// pointer gets `data-drop-position="before" | "after"` (styled by the caller). On drop the
// new order of ids is handed to `onReorder` once; nothing moves in the DOM until the
// server's state comes back with the new order.
import React, { useRef } from "react";

const ITEM = "[data-sort-id]";

function itemsOf(root) {
  return Array.from(root.querySelectorAll(ITEM)).filter(
    (el) => el.parentElement && el.parentElement.closest("[data-sortable-root]") === root,
  );
}

function clearMarks(root) {
  root.querySelectorAll("[data-drop-position]").forEach((el) => el.removeAttribute("data-drop-position"));
  root.querySelectorAll("[data-dragging]").forEach((el) => el.removeAttribute("data-dragging"));
}

function positionOf(target, clientY) {
  const box = target.getBoundingClientRect();
  return clientY < box.top + box.height / 2 ? "before" : "after";
}

export function SortableList({ onReorder, children, ...rest }) {
  const root = useRef(null);
  const dragged = useRef(null);

  const onDragStart = (event) => {
    const item = event.target.closest && event.target.closest(ITEM);
    if (!item || !root.current || !root.current.contains(item)) return;
    dragged.current = item.getAttribute("data-sort-id");
    item.setAttribute("data-dragging", "true");
    event.dataTransfer.effectAllowed = "move";
    // Firefox starts a drag only when some data is set.
    event.dataTransfer.setData("text/plain", dragged.current);
  };

  const onDragOver = (event) => {
    if (dragged.current === null) return;
    const item = event.target.closest && event.target.closest(ITEM);
    if (!item || !root.current.contains(item)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    const position = positionOf(item, event.clientY);
    root.current.querySelectorAll("[data-drop-position]").forEach((el) => {
      if (el !== item) el.removeAttribute("data-drop-position");
    });
    if (item.getAttribute("data-sort-id") !== dragged.current) {
      item.setAttribute("data-drop-position", position);
    }
  };

  const onDrop = (event) => {
    const from = dragged.current;
    const item = event.target.closest && event.target.closest(ITEM);
    if (from === null || !item || !root.current.contains(item)) return;
    event.preventDefault();
    const onto = item.getAttribute("data-sort-id");
    const position = positionOf(item, event.clientY);
    const ids = itemsOf(root.current).map((el) => el.getAttribute("data-sort-id"));
    clearMarks(root.current);
    dragged.current = null;
    if (onto === from) return;
    const order = ids.filter((id) => id !== from);
    const at = order.indexOf(onto) + (position === "after" ? 1 : 0);
    order.splice(at, 0, from);
    if (order.join("\u0000") !== ids.join("\u0000") && onReorder) onReorder(order);
  };

  const onDragEnd = () => {
    dragged.current = null;
    if (root.current) clearMarks(root.current);
  };

  return (
    <div
      {...rest}
      ref={root}
      data-sortable-root=""
      onDragStart={onDragStart}
      onDragOver={onDragOver}
      onDrop={onDrop}
      onDragEnd={onDragEnd}
    >
      {children}
    </div>
  );
}
