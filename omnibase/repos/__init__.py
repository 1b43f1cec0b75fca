"""Hooks of other repositories (pre-commit's ``repo: URL`` at ``rev``): fetched once into a
user-wide cache, their Python environments built once, reused, and removed by
``omnibase gc`` / ``omnibase clean``. See ``docs/precommit.md``.

* ``HookSource`` (``_source``): where a hook comes from and its language (``LANGUAGES``).
* ``cache_dir``, ``clone``, ``manifest`` (``_cache``): the cache and the clones in it.
* ``environment`` (``_envs``): a hook's Python environment, built under a lock.
* ``RepoHook`` (``_hook``): the component that runs a hook from its environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnibase.repos._cache import CACHE_VARIABLE, FETCH_VARIABLE, MANIFEST, cache_dir, clone, clone_key, manifest
    from omnibase.repos._envs import EnvInfo, env_key, environment, environments, interpreter
    from omnibase.repos._hook import REPO_HOOK, RepoHook, base_argv, fail_argv, pygrep_argv
    from omnibase.repos._source import LANGUAGES, LOCAL, HookSource, unsupported

#: name -> the module that defines it. Imported on first use: the registry's schema needs
#: only ``_source`` (a struct), and a commit should not pay for the cache, the environments
#: and the command runner (``shutil``, ``components.command``) it never uses.
_HOMES = {
    **dict.fromkeys(("CACHE_VARIABLE", "FETCH_VARIABLE", "MANIFEST", "cache_dir", "clone", "clone_key", "manifest"), "_cache"),
    **dict.fromkeys(("EnvInfo", "env_key", "environment", "environments", "interpreter"), "_envs"),
    **dict.fromkeys(("REPO_HOOK", "RepoHook", "base_argv", "fail_argv", "pygrep_argv"), "_hook"),
    **dict.fromkeys(("LANGUAGES", "LOCAL", "HookSource", "unsupported"), "_source"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


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
