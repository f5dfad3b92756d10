"""Dashboard page routes, and where a login may send the browser next."""

from __future__ import annotations

LOGIN = "/login"
DASHBOARD = "/"
STATUS = "/status"
USERS = "/users"
NODES = "/nodes"
MODELS = "/models"
MAPPINGS = "/mappings"
GROUPS = "/groups"
MODEL_CONFIG = "/model-config"
TOOL_SETS = "/tool-sets"
SYSTEM_PROMPTS = "/system-prompts"
LOGS = "/logs"
AUDIT = "/audit"
SETTINGS = "/settings"


def safe_next_page(target: str | None) -> str:
    """`target` if it is a page path of this site (never another origin, never the login
    page itself), else the dashboard."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return DASHBOARD
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return DASHBOARD
    if target.split("?", 1)[0].rstrip("/") == LOGIN:
        return DASHBOARD
    return target
