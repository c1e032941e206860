FROM python:3.11-slim

RUN useradd --create-home --uid 10001 carapulse
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY actions ./actions
COPY blocks ./blocks
COPY tools ./tools
COPY migrations ./migrations
COPY policies ./policies
RUN pip install --no-cache-dir .

USER carapulse
ENV PORT=3000 DATABASE_URL=sqlite+aiosqlite:////home/carapulse/carapulse.db
EXPOSE 3000
HEALTHCHECK CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
CMD ["carapulse", "serve"]
