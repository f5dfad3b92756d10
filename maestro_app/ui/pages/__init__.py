"""Every dashboard page, in sidebar order."""

from maestro_app.ui.layout import Page
from maestro_app.ui.pages import login, mappings_view, models, nodes_view, status, users_view

PAGES: tuple[Page, ...] = (
    login.page,
    status.page,
    nodes_view.page,
    models.page,
    mappings_view.page,
    users_view.page,
)
