"""The pipeline API under /api/v1/: CI/CD asks for a change, people approve it in Slack, the pipeline
waits for the result. `service.ApiService` is built by bot/app.py and its routes are added to the
HTTP server by bot/http.py."""
