# adnet: the image behind compose.yaml's web, worker and beat services.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH

RUN pip install --no-cache-dir --disable-pip-version-check uv==0.13.8 \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin adnet

WORKDIR /app
# Dependencies first, so code changes reuse this layer. The facilitator kit is a dev
# dependency (not installed here), but uv reads its pyproject.toml to check the lock.
COPY pyproject.toml uv.lock ./
COPY facilitator-kit/pyproject.toml facilitator-kit/
RUN uv sync --locked --no-dev --no-cache

COPY . .
# Static files are baked in (served by WhiteNoise). No database or broker is needed for this.
RUN DATABASE_URL= REDIS_URL= ADNET_VAR_DIR=/tmp/adnet-build \
        python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/adnet-build \
    && mkdir -p /app/var \
    && chown adnet:adnet /app/var

USER adnet
EXPOSE 8000
CMD ["sh", "-c", "exec uwsgi --ini adnet/uwsgi.ini --http-socket 0.0.0.0:8000 --processes ${WEB_CONCURRENCY:-2}"]
