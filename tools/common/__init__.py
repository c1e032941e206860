"""What every tool shares: the action contract (`base`), how a tool reads its settings and reports
(`toolset`), the HTTP client, the sandboxed CLI runner, retries, redaction, waiting, pins and wording,
and the registry that loads the tools. A tool package imports only this package and itself."""
