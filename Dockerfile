# syntax=docker/dockerfile:1
# Two stages: the builder turns Carapulse and its dependencies into wheels (with a compiler at hand
# for any dependency that has no wheel for the platform); the final image installs those wheels
# from a bind mount, so neither the compiler nor the wheels end up in one of its layers.

FROM python:3.11-slim AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY actions ./actions
COPY blocks ./blocks
COPY tools ./tools
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels carapulse
RUN useradd --create-home --uid 10001 --user-group carapulse
WORKDIR /app
# The Rego policies are read from disk at start-up; they are not part of the Python package.
COPY policies ./policies
# A numeric user, so Kubernetes' runAsNonRoot can check it is not root.
USER 10001:10001
ENV PORT=3000 \
    POLICY_DIR=/app/policies \
    DATABASE_URL=sqlite+aiosqlite:////home/carapulse/carapulse.db
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"]
ENTRYPOINT ["carapulse"]
CMD ["serve"]
