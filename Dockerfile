# The bot's image: the locked dependencies (uv.lock), the compiled catalogs, `main.py` as a user of
# its own. Used by docker-compose.yml; see README "Scale-out".
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1
WORKDIR /app
RUN pip install --no-cache-dir "uv==0.13.9"

# the dependencies first: a change of code does not reinstall them
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project

COPY . .
RUN uv sync --locked --no-dev \
 && .venv/bin/python -m tools.catalogs compile \
 && useradd --system --home-dir /app kabinet \
 && mkdir -p /app/data && chown kabinet /app/data

USER kabinet
EXPOSE 8080
CMD ["/app/.venv/bin/python", "main.py"]
