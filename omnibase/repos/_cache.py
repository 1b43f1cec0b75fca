"""The cache of hook repositories and their environments, shared by every project of a user.

Where it is: ``$OMNIBASE_CACHE_DIR``, else ``$XDG_CACHE_HOME/omnibase``, else
``~/.cache/omnibase``. What it holds::

    repos/<key>/            a clone of one repository at one revision (renamed into place)
    envs/<key>  ->  <key>.<nonce>/   a finished environment (the link is swapped in atomically)
    envs/<key>.lock         held while that environment is being built
    used/<hash>             a registry file (or a project folder) that used the cache

A clone is made in a temporary folder and renamed into place, so a reader sees it whole or
not at all. ``used/`` is how ``omnibase gc`` knows what is still wanted: it reads each
registry recorded there and keeps what those need.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from returns.result import Failure, Result, Success

from omnibase._io.atomic import write_atomic
from omnibase._io.git import git

__all__ = [
    "CACHE_VARIABLE",
    "FETCH_VARIABLE",
    "MANIFEST",
    "cache_dir",
    "clone",
    "clone_key",
    "fetch_refused",
    "manifest",
    "record_use",
    "recorded_uses",
]

#: The environment variable that moves the cache.
CACHE_VARIABLE = "OMNIBASE_CACHE_DIR"
#: ``OMNIBASE_FETCH=0``: clone nothing over the network (``file://`` URLs and local paths
#: still are; what is cached already is used).
FETCH_VARIABLE = "OMNIBASE_FETCH"
#: The file of a hook repository that describes its hooks.
MANIFEST = ".pre-commit-hooks.yaml"


def cache_dir(env: Mapping[str, str] | None = None) -> str:
    """The cache folder (not created here).

    >>> cache_dir({"OMNIBASE_CACHE_DIR": "/c"}), cache_dir({"XDG_CACHE_HOME": "/x"})
    ('/c', '/x/omnibase')
    """
    env = os.environ if env is None else env
    if env.get(CACHE_VARIABLE):
        return os.path.abspath(env[CACHE_VARIABLE])
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "omnibase")


def digest(*parts: object) -> str:
    """A short stable key of ``parts`` (names of folders in the cache)."""
    import json

    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:20]


def clone_key(url: str, rev: str) -> str:
    return digest("repo", url, rev)


def fetch_refused(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """Why ``url`` is not to be fetched now (``OMNIBASE_FETCH=0`` and not a local one)."""
    env = os.environ if env is None else env
    if env.get(FETCH_VARIABLE, "1") != "0" or url.startswith("file://") or os.path.isabs(url):
        return None
    return f"not fetched: fetching is off ({FETCH_VARIABLE}=0) and it is not in the cache"


def clone(url: str, rev: str, *, cache: str | None = None, say: Any = None) -> Result[str, str]:
    """The folder of ``url``'s clone at ``rev`` in the cache, cloned now if it is not there
    (``say``: a function given one line of progress). Failure: why it cannot be had."""
    top = os.path.join(cache or cache_dir(), "repos")
    final = os.path.join(top, clone_key(url, rev))
    if os.path.isdir(final):
        return Success(final)
    refused = fetch_refused(url)
    if refused:
        return Failure(refused)
    os.makedirs(top, exist_ok=True)
    if say is not None:
        say(f"fetching {url} at {rev}")
    work = tempfile.mkdtemp(prefix=".clone-", dir=top)
    try:
        got = _checkout(url, rev, work)
        if isinstance(got, Failure):
            return got
        for name, value in (("omnibase.url", url), ("omnibase.rev", rev)):  # what gc shows
            git(["config", name, value], work, elsewhere=True)
        try:
            os.rename(work, final)
        except OSError:
            if not os.path.isdir(final):  # another run renamed its clone first: use that one
                raise
        return Success(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _checkout(url: str, rev: str, work: str) -> Result[None, str]:
    """``rev`` of ``url`` checked out in ``work``: a shallow fetch of the revision, else a
    whole clone (a server may refuse to serve a commit by its hash alone)."""
    steps = (["init", "--quiet"], ["fetch", "--quiet", "--depth=1", url, rev], ["checkout", "--quiet", "FETCH_HEAD"])
    for args in steps:
        if isinstance(git(args, work, elsewhere=True), Failure):
            break
    else:
        return Success(None)
    shutil.rmtree(work, ignore_errors=True)
    os.mkdir(work)
    cloned = git(["clone", "--quiet", "--no-checkout", url, "."], work, elsewhere=True)
    if isinstance(cloned, Failure):
        return Failure(f"cannot fetch {url}: {cloned.failure().message}")
    checked = git(["checkout", "--quiet", rev, "--"], work, elsewhere=True)
    if isinstance(checked, Failure):
        return Failure(f"{url} has no revision '{rev}': {checked.failure().message}")
    return Success(None)


def manifest(folder: str) -> Result[dict[str, dict[str, Any]], str]:
    """The hooks a repository's ``.pre-commit-hooks.yaml`` describes, by id."""
    import yaml

    path = os.path.join(folder, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        return Failure(f"it has no {MANIFEST} ({exc.strerror or exc})")
    except yaml.YAMLError as exc:
        return Failure(f"its {MANIFEST} is not valid YAML: {exc}")
    if not isinstance(data, list) or not all(isinstance(h, dict) and h.get("id") for h in data):
        return Failure(f"its {MANIFEST} is not a list of hooks with ids")
    return Success({str(h["id"]): h for h in data})


def record_use(path: str, *, cache: str | None = None) -> None:
    """Remember that the registry file (or project folder) ``path`` uses the cache."""
    path = os.path.abspath(path)
    folder = os.path.join(cache or cache_dir(), "used")
    target = os.path.join(folder, digest("used", path))
    if os.path.exists(target):
        return
    try:
        os.makedirs(folder, exist_ok=True)
        write_atomic(target, path.encode("utf-8", "surrogateescape"), durable=False)
    except OSError:
        pass  # a cache that cannot record its users only makes gc keep less


def recorded_uses(cache: str) -> Iterator[tuple[str, str]]:
    """Each ``(record file, path it names)`` of ``used/``."""
    folder = os.path.join(cache, "used")
    for name in sorted(_listdir(folder)):
        record = os.path.join(folder, name)
        try:
            with open(record, "rb") as f:
                yield record, f.read().decode("utf-8", "surrogateescape")
        except OSError:
            continue


def _listdir(folder: str) -> Iterable[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return ()
