"""What a user may see in model listings: display names only (SPEC §3.1), from the snapshot."""

from __future__ import annotations

import time
from dataclasses import dataclass

from maestro_app.domain.names import canonical
from maestro_app.domain.snapshot import ModelInfo, NodeView, Snapshot, UserView

# The `created` time of every listed model: the gateway's start (nodes do not say when a
# model was made, and a stable value keeps clients' caches quiet).
LISTED_SINCE = int(time.time())


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    name: str
    context_length: int | None
    capabilities: tuple[str, ...]
    info: ModelInfo | None
    node: NodeView | None
    is_group: bool = False


def catalog(snapshot: Snapshot, user: UserView | None) -> list[CatalogEntry]:
    """Every model name the user may request, with what is known about it, sorted by name."""
    entries: dict[str, CatalogEntry] = {}
    for node in snapshot.nodes:
        if not node.is_active:
            continue
        for info in node.models.values():
            display = snapshot.display_name(info.name, node.id)
            key = canonical(display)
            if key in entries:
                continue
            mapping = snapshot.mapping_for(display, node.id)
            entries[key] = CatalogEntry(
                name=display,
                context_length=(mapping.context_length if mapping else None) or info.context_length,
                capabilities=(
                    mapping.capabilities if mapping and mapping.capabilities else info.capabilities
                ),
                info=info,
                node=node,
            )
    for group in snapshot.groups.values():
        if not group.list_in_catalog or not group.members:
            continue
        member = group.members[0]
        first = entries.get(canonical(member.model_display_name))
        # A member not discovered anywhere yet: what its (global) mapping declares.
        mapping = None if first else snapshot.mapping_for(member.model_display_name, 0)
        entries[canonical(group.name)] = CatalogEntry(
            name=group.name,
            context_length=member.context_length
            or (first.context_length if first else mapping.context_length if mapping else None),
            capabilities=first.capabilities if first else mapping.capabilities if mapping else (),
            info=first.info if first else None,
            node=first.node if first else None,
            is_group=True,
        )
    visible = [e for e in entries.values() if user is None or user.may_use(e.name)]
    return sorted(visible, key=lambda e: e.name)
