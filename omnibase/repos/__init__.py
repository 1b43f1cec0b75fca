"""Hooks of other repositories (pre-commit's ``repo: URL`` at ``rev``): fetched once into a
user-wide cache, their Python environments built once, reused, and removed by
``omnibase gc`` / ``omnibase clean``. See ``docs/precommit.md``.

* ``HookSource`` (``_source``): where a hook comes from and its language (``LANGUAGES``).
* ``cache_dir``, ``clone``, ``manifest`` (``_cache``): the cache and the clones in it.
* ``environment`` (``_envs``): a hook's Python environment, built under a lock.
* ``RepoHook`` (``_hook``): the component that runs a hook from its environment.
"""

from __future__ import annotations

from omnibase.repos._cache import CACHE_VARIABLE, FETCH_VARIABLE, MANIFEST, cache_dir, clone, clone_key, manifest
from omnibase.repos._envs import EnvInfo, env_key, environment, environments, interpreter
from omnibase.repos._hook import REPO_HOOK, RepoHook, base_argv, fail_argv, pygrep_argv
from omnibase.repos._source import LANGUAGES, LOCAL, HookSource, unsupported

__all__ = [
    "CACHE_VARIABLE",
    "FETCH_VARIABLE",
    "LANGUAGES",
    "LOCAL",
    "MANIFEST",
    "REPO_HOOK",
    "EnvInfo",
    "HookSource",
    "RepoHook",
    "base_argv",
    "cache_dir",
    "clone",
    "clone_key",
    "env_key",
    "environment",
    "environments",
    "fail_argv",
    "interpreter",
    "manifest",
    "pygrep_argv",
    "unsupported",
]
