"""Settings page: the runtime settings (balancing, job intervals, retention, body size limit,
default context length), saved through `services.settings_service` as `PUT /admin/settings`
does. A save reloads this worker's snapshot at once (and with it the job scheduler's
intervals); other workers follow through the config version. Nothing is written when any
field is refused.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import EventSpec

from maestro_app.services import settings_service
from maestro_app.services.settings_service import SettingsUpdate
from maestro_app.ui import routes, styles
from maestro_app.ui.components.widgets import loading_rows, page_header, titled_card
from maestro_app.ui.data import call_service, call_write
from maestro_app.ui.feedback import INPUT_ERRORS, failure_toast
from maestro_app.ui.layout import Page, template
from maestro_app.ui.pages.settings_form import (
    FIELDS,
    LABELS,
    SECTIONS,
    STRATEGIES,
    SettingField,
    default_hint,
    field_text,
    read_form,
)
from maestro_app.ui.state import AuthState, admin_event


def changed_labels(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The labels of the settings whose stored value differs."""
    return [spec.label for spec in FIELDS if before.get(spec.key) != after.get(spec.key)]


class SettingsState(AuthState):
    values: dict[str, str] = {}
    loaded: bool = False
    # Bumped after a load or save: the form remounts and shows the stored values.
    form_key: int = 0

    def _show(self, stored: dict[str, Any]) -> None:
        self.values = {spec.key: field_text(spec, stored.get(spec.key)) for spec in FIELDS}
        self.form_key += 1
        self.loaded = True

    @admin_event
    async def load(self) -> None:
        self._show(await call_service(settings_service.get_settings))

    @admin_event
    async def revert(self) -> None:
        """Forget the edits: the stored values again."""
        self._show(await call_service(settings_service.get_settings))

    @admin_event
    async def save(self, form: dict[str, Any]) -> EventSpec:
        try:
            data = SettingsUpdate.model_validate(read_form(form))
            before = await call_service(settings_service.get_settings)
            after = await call_write(settings_service.update_settings, data=data, actor=self._actor)
        except INPUT_ERRORS as exc:
            return failure_toast(exc, labels=LABELS)
        self._show(after)
        changed = changed_labels(before, after)
        if not changed:
            return rx.toast.info("Nothing changed")
        return rx.toast.success("Saved: " + ", ".join(changed) + ". In effect now.")


# -- view -------------------------------------------------------------------------------


def control(spec: SettingField) -> rx.Component:
    element_id = "setting-" + spec.key.replace("_", "-")
    if spec.kind == "choice":
        return rx.select.root(
            rx.select.trigger(id=element_id, width="100%"),
            rx.select.content(*(rx.select.item(name.replace("_", " "), value=name) for name in STRATEGIES)),
            name=spec.key,
            default_value=SettingsState.values[spec.key],
        )
    return rx.input(
        name=spec.key,
        id=element_id,
        default_value=SettingsState.values[spec.key],
        inputmode="text" if spec.kind in ("text", "bytes", "tokens") else "decimal",
        auto_complete="off",
        width="100%",
    )


def setting_field(spec: SettingField) -> rx.Component:
    element_id = "setting-" + spec.key.replace("_", "-")
    hints = [h for h in (spec.hint, default_hint(spec)) if h]
    if spec.kind == "choice":
        hints = [f"{name.replace('_', ' ')}: {text}" for name, text in STRATEGIES.items()]
    return rx.vstack(
        rx.text(spec.label, as_="label", html_for=element_id, size="2", weight="medium"),
        control(spec),
        *(rx.text(h, size="1", color=styles.muted_text_color) for h in hints),
        spacing="1",
        width="100%",
    )


def section(title: str, subtitle: str, fields: tuple[SettingField, ...]) -> rx.Component:
    return titled_card(
        title,
        subtitle,
        rx.grid(
            *(setting_field(spec) for spec in fields),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
    )


def settings_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            *(section(title, subtitle, fields) for title, subtitle, fields in SECTIONS),
            rx.hstack(
                rx.button(
                    "Revert",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=SettingsState.revert,
                    id="revert-settings",
                ),
                rx.button(rx.icon("save", size=16), "Save settings", type="submit", id="save-settings"),
                justify="end",
                spacing="3",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=SettingsState.save,
        reset_on_submit=False,
        key=SettingsState.form_key,
        width="100%",
        id="settings-form",
    )


@template(route=routes.SETTINGS, title="Settings", on_load=SettingsState.load)
def settings_page() -> rx.Component:
    return rx.fragment(
        page_header("Settings", "Applied at once, without a restart. Every change is audited."),
        rx.cond(SettingsState.loaded, settings_form(), loading_rows(6)),
    )


page: Page = settings_page
