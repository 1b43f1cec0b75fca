"""Python environments of hooks: keyed, built once under a lock, swapped in whole, reused.

An environment is keyed by the hook's repository and revision, its
``additional_dependencies`` and the interpreter (its real path and version): a new
``rev``, another dependency or another Python is another environment. It is built in a
folder of its own (``envs/<key>.<nonce>``, the path its scripts' ``#!`` lines name), and
only when it is complete is the link ``envs/<key>`` swapped to it (``os.replace`` of a
link: atomic). Two runs that want the same environment take its lock in turn: the second
finds the link and builds nothing. A build that died leaves a folder no link points to,
which ``omnibase gc`` removes.

pip installs the repository (for ``local`` hooks, only the dependencies) with the
package index it is configured with (``PIP_*`` variables and pip.conf apply). The
interpreter's own pip is used when it has one (``pip --python ENV``), so an environment
needs no copy of pip; otherwise the environment is made with one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgspec
from returns.result import Failure, Result, Success

from omnibase.repos._cache import cache_dir, clone, digest
from omnibase.repos._source import LOCAL, HookSource

__all__ = ["EnvInfo", "env_key", "environment", "environments", "interpreter"]

#: The file in a finished environment that says what it was built from.
INFO = ".omnibase-env.json"


class EnvInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What an environment was built from (written into it, shown by ``gc``)."""

    key: str
    url: str
    rev: str
    dependencies: tuple[str, ...]
    python: str
    seconds: float = 0.0


def interpreter(version: str) -> Result[tuple[str, str], str]:
    """The interpreter a ``language_version`` names: its real path and its version.
    ``default`` is the Python running omnibase (the one a virtual environment was made
    from, when omnibase runs in one)."""
    if version in ("default", ""):
        base = getattr(sys, "_base_executable", None) or sys.executable
        return Success((os.path.realpath(base), "%d.%d.%d" % sys.version_info[:3]))
    path = shutil.which(version)
    if path is None:
        return Failure(f"language_version '{version}': no such interpreter on PATH")
    try:
        out = subprocess.run(
            [path, "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, timeout=30, check=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        return Failure(f"language_version '{version}': {path} does not run ({exc})")
    return Success((os.path.realpath(path), out.stdout.strip()))


def env_key(source: HookSource, python: tuple[str, str]) -> str:
    """The key of ``source``'s environment with the interpreter ``python`` (path, version):
    the dependencies count as a set (their order does not make another environment)."""
    return digest("env", source.url, source.rev, sorted(set(source.additional_dependencies)), list(python))


def environment(source: HookSource, *, cache: str | None = None, say: Callable[[str], None] | None = None) -> Result[str, str]:
    """The folder of ``source``'s environment, built now if there is none. Failure: why
    not (the last lines of what failed)."""
    import fcntl

    top = cache or cache_dir()
    python = interpreter(source.language_version)
    if isinstance(python, Failure):
        return python
    key = env_key(source, python.unwrap())
    envs = os.path.join(top, "envs")
    link = os.path.join(envs, key)
    if os.path.isdir(link):
        return Success(os.path.realpath(link))
    os.makedirs(envs, exist_ok=True)
    with open(link + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second run waits here, then finds the link
        if os.path.isdir(link):
            return Success(os.path.realpath(link))
        return _build(source, python.unwrap(), key, envs, top, say or _stderr)


def environments(cache: str) -> Iterator[tuple[str, str, EnvInfo | None]]:
    """Each environment folder of the cache: ``(key, folder, what it was built from)``;
    a folder without its link is one whose build did not finish (its info is None)."""
    envs = os.path.join(cache, "envs")
    try:
        names = sorted(os.listdir(envs))
    except OSError:
        return
    for name in names:
        folder = os.path.join(envs, name)
        key, dot, _ = name.partition(".")
        if not dot or name.endswith(".lock") or os.path.islink(folder):
            continue
        link = os.path.join(envs, key)
        finished = os.path.islink(link) and os.path.realpath(link) == os.path.realpath(folder)
        yield key, folder, _info(folder) if finished else None


def _build(source: HookSource, python: tuple[str, str], key: str, envs: str, top: str, say: Callable[[str], None]) -> Result[str, str]:
    """Build ``source``'s environment in a new folder, then swap the link ``envs/<key>`` to
    it. The caller holds the key's lock."""
    import tempfile

    started = time.monotonic()
    deps = ", ".join(source.additional_dependencies) or "no dependencies"
    what = f"local hooks ({deps})" if source.url == LOCAL else f"{source.url} at {source.rev}"
    packages = list(source.additional_dependencies)
    if source.url != LOCAL:
        where = clone(source.url, source.rev, cache=top, say=say)
        if isinstance(where, Failure):
            return where
        packages.insert(0, where.unwrap())
    say(f"building the Python environment of {what} (python {python[1]}; this happens once)")
    folder = tempfile.mkdtemp(prefix=key + ".", dir=envs)
    try:
        installed = _install(folder, python[0], packages, say)
        if isinstance(installed, Failure):
            shutil.rmtree(folder, ignore_errors=True)
            return Failure(f"building the environment of {what} failed while {installed.failure()}")
        seconds = round(time.monotonic() - started, 2)
        info = EnvInfo(key=key, url=source.url, rev=source.rev, dependencies=source.additional_dependencies, python=python[0], seconds=seconds)
        _publish(folder, info, envs)
    except BaseException:  # interrupted, or the disk is full: no half environment stays
        shutil.rmtree(folder, ignore_errors=True)
        raise
    say(f"  built in {seconds:.1f}s")
    return Success(folder)


def _install(folder: str, python: str, packages: Sequence[str], say: Callable[[str], None]) -> Result[None, str]:
    """A virtual environment of ``python`` in ``folder`` with ``packages`` installed; the
    failure names the step and pip's last lines."""
    from omnibase._io.git import environ_elsewhere

    own_pip = _has_pip()
    steps = [("creating a virtual environment", [python, "-m", "venv", *(["--without-pip"] if own_pip else []), folder])]
    if packages:
        pip = [sys.executable, "-m", "pip", "--python", _python_of(folder)] if own_pip else [_python_of(folder), "-m", "pip"]
        steps.append((f"installing {len(packages)} package(s)", [*pip, "install", "--quiet", "--disable-pip-version-check", *packages]))
    env = environ_elsewhere()  # a build backend asking git must see the hook's repository, not the user's
    for n, (title, argv) in enumerate(steps, 1):
        say(f"  [{n}/{len(steps)}] {title}")
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", env=env, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-10:])
            return Failure(f"{title}:\n{tail}")
    return Success(None)


def _publish(folder: str, info: EnvInfo, envs: str) -> None:
    """Write what ``folder`` was built from into it, then make it *the* environment of its
    key: the link ``envs/<key>`` is made beside it and renamed over (atomic)."""
    with open(os.path.join(folder, INFO), "wb") as f:
        f.write(msgspec.json.encode(info))
    os.chmod(folder, 0o755)
    temp_link = os.path.join(envs, f".{info.key}.link")
    if os.path.lexists(temp_link):
        os.unlink(temp_link)
    os.symlink(os.path.basename(folder), temp_link)
    os.replace(temp_link, os.path.join(envs, info.key))  # now, and only now, it exists


def _info(folder: str) -> EnvInfo | None:
    try:
        with open(os.path.join(folder, INFO), "rb") as f:
            return msgspec.json.decode(f.read(), type=EnvInfo)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def _python_of(folder: str) -> str:
    return os.path.join(folder, "bin", "python")


def _has_pip() -> bool:
    import importlib.util

    return importlib.util.find_spec("pip") is not None


def _stderr(line: str) -> None:
    print(f"omnibase: {line}", file=sys.stderr, flush=True)


def remove(folder: str) -> None:
    """Remove an environment or clone folder (whatever is left of it)."""
    shutil.rmtree(folder, ignore_errors=True)


