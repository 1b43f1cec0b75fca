"""Test-session settings shared by every test folder.

CI machines set ``CI=true`` (and GitHub sets ``GITHUB_ACTIONS``), which changes what the CLI
prints (ASCII instead of colour and emoji, plain progress lines, GitHub annotations). The
suite must see the same environment on a laptop and in CI, so these are removed for the
session; a test that is about them sets them itself, in the environment it gives the CLI.
"""

import os

for _name in ("CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "NO_COLOR"):
    os.environ.pop(_name, None)
