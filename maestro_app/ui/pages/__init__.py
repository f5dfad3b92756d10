"""Every dashboard page, in sidebar order."""

from maestro_app.ui.layout import Page
from maestro_app.ui.pages import (
    audit,
    dashboard_view,
    login,
    logs_view,
    mappings_view,
    models,
    nodes_view,
    settings,
    status,
    users_view,
)

PAGES: tuple[Page, ...] = (
    login.page,
    dashboard_view.page,
    status.page,
    nodes_view.page,
    models.page,
    mappings_view.page,
    users_view.page,
    logs_view.page,
    audit.page,
    settings.page,
)
