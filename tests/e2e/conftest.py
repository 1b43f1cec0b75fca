"""End-to-end tests run the real CLI in a subprocess on real temporary git repositories:
the ``repo`` and ``cli`` fixtures of tests/conftest.py, the helpers of tests/support.py.

``Repo`` and ``_env`` stay importable from here for tests written before the helpers moved;
new tests import them from tests.support (``_env`` is ``cli_env``).
"""

from __future__ import annotations

from tests.support import Repo
from tests.support import cli_env as _env

__all__ = ["Repo", "_env"]
