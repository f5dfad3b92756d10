"""Composition root: settings, runtime, the gateway, the dashboard — wired together here.

`reflex run` imports this module (in the CLI process to compile the dashboard, and in each
backend worker to serve). The runtime opens its resources in the app's lifespan.
"""

import contextlib
from collections.abc import AsyncIterator

import reflex as rx
from starlette.types import ASGIApp

from maestro_app.gateway.app import build_routes, create_gateway_app
from maestro_app.gateway.fastpath import fast_path
from maestro_app.observability.logs import configure_logging
from maestro_app.observability.metrics import GatewayMetrics
from maestro_app.observability.metrics_files import prepare_multiprocess
from maestro_app.runtime import Runtime
from maestro_app.settings import Settings, load_settings
from maestro_app.ui import context, styles
from maestro_app.ui.pages import PAGES

# Logging first: loading the settings may log the first-start admin credentials.
_early = Settings()
configure_logging(level=_early.log_level, fmt=_early.log_format)
settings = load_settings()
# Served by one or more Granian workers: metrics in files of this start, summed per scrape.
metrics = GatewayMetrics(multiprocess_dir=prepare_multiprocess(settings.data_dir))
runtime = Runtime(settings, metrics=metrics)
context.set_runtime(runtime)
gateway_app = create_gateway_app(runtime)
around_everything = fast_path(gateway_app)


class MaestroApp(rx.App):
    """The Reflex app, with the gateway's proxy endpoints answered before Reflex's own
    middleware and the FastAPI app (gateway/fastpath.py). The backend server calls the app
    object (granian `--factory`) to get its ASGI app."""

    def __call__(self) -> ASGIApp:
        return around_everything(super().__call__())


app = MaestroApp(
    # The gateway's FastAPI app, which mounts Reflex's own routes.
    api_transformer=gateway_app,
    style=styles.base_style,
    head_components=[rx.el.link(rel="icon", type="image/svg+xml", href="/favicon.svg")],
)


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[None]:
    """The worker's lifespan: the runtime opens its resources, then the gateway's routes are
    built, before the first client."""
    async with runtime.lifespan():
        await build_routes(gateway_app)
        yield


app.register_lifespan_task(serving)
for page in PAGES:
    page.add_to(app)
