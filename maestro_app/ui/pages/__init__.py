"""Every dashboard page, in sidebar order."""

from maestro_app.ui.layout import Page
from maestro_app.ui.pages import (
    audit,
    dashboard_view,
    groups_view,
    login,
    logs_view,
    mappings_view,
    model_configs_view,
    models,
    nodes_view,
    settings,
    status,
    system_prompts_view,
    tool_sets_view,
    users_view,
)

PAGES: tuple[Page, ...] = (
    login.page,
    dashboard_view.page,
    status.page,
    nodes_view.page,
    models.page,
    mappings_view.page,
    groups_view.page,
    model_configs_view.page,
    tool_sets_view.page,
    system_prompts_view.page,
    users_view.page,
    logs_view.page,
    audit.page,
    settings.page,
)
