"""The warm command server behind the installed git hook: a stdlib-only client, a forking server, one protocol (docs/server.md)."""
