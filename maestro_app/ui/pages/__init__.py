"""Every dashboard page, in sidebar order."""

from maestro_app.ui.layout import Page
from maestro_app.ui.pages import login, status, users_view

PAGES: tuple[Page, ...] = (login.page, status.page, users_view.page)
