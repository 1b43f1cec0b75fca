"""Test-session settings shared by every test folder.

CI machines set ``CI=true`` (and GitHub sets ``GITHUB_ACTIONS``), which changes what the CLI
prints (ASCII instead of colour and emoji, plain progress lines, GitHub annotations). The
suite must see the same environment on a laptop and in CI, so these are removed for the
session; a test that is about them sets them itself, in the environment it gives the CLI.
"""

import os

for _name in ("CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "NO_COLOR"):
    os.environ.pop(_name, None)

# The installed git hook hands runs to a warm command server (docs/server.md) that lives on
# after the run: tests that commit through the hook must not leave one behind. The server
# tests (tests/e2e/test_cli_server.py) turn it on in the environment they give the hook.
os.environ["OMNIBASE_SERVER"] = "0"
