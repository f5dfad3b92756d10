"""Every dashboard page, in sidebar order."""

from maestro_app.ui.layout import Page
from maestro_app.ui.pages import (
    groups_view,
    login,
    mappings_view,
    model_configs_view,
    models,
    nodes_view,
    status,
    system_prompts_view,
    tool_sets_view,
    users_view,
)

PAGES: tuple[Page, ...] = (
    login.page,
    status.page,
    nodes_view.page,
    models.page,
    mappings_view.page,
    groups_view.page,
    model_configs_view.page,
    tool_sets_view.page,
    system_prompts_view.page,
    users_view.page,
)
