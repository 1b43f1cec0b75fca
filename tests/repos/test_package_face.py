"""``omnibase.repos`` names its parts without importing them: the registry's schema needs
only ``HookSource``, and a commit does not pay for the cache, the environments and the
command runner."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import omnibase.repos as repos


def test_every_public_name_is_its_home_modules_object():
    assert set(repos.__all__) == set(repos._HOMES)
    for name, home in repos._HOMES.items():
        assert getattr(repos, name) is getattr(importlib.import_module(f"omnibase.repos.{home}"), name)


def test_reading_the_schema_does_not_import_the_cache_the_environments_or_shutil():
    probe = ("import sys, json, omnibase.registry._schema; "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('omnibase.repos') or m == 'shutil')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == ["omnibase.repos", "omnibase.repos._source"]


def test_an_unknown_name_is_an_attribute_error():
    try:
        repos.nothing_here  # noqa: B018
    except AttributeError as exc:
        assert "nothing_here" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")
