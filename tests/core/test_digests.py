"""The hash constructors that spare a run ``hashlib``'s start-up (``omnibase.core.digests``):
the digests are ``hashlib``'s, with the interpreter's own modules or without them."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from omnibase.core import digests

SAMPLES = [b"", b"abc", bytes(range(256)) * 300, "é\u2028".encode()]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_digests_are_hashlibs(data):
    assert digests.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert digests.blake2b(data, digest_size=16).digest() == hashlib.blake2b(data, digest_size=16).digest()
    assert digests.blake2b(data).digest() == hashlib.blake2b(data).digest()


def test_without_the_interpreters_modules_hashlib_gives_the_same(monkeypatch):
    for name in ("_sha2", "_sha256", "_blake2"):
        monkeypatch.setitem(sys.modules, name, None)  # (importing it then fails)
    data = b"the same bytes"
    assert digests.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert digests.blake2b(data, digest_size=16).digest() == hashlib.blake2b(data, digest_size=16).digest()


def test_hashing_loads_neither_hashlib_nor_openssl():
    code = (
        "import sys\n"
        "from omnibase.core.digests import blake2b, sha256\n"
        "sha256(b'x').hexdigest(); blake2b(b'x').digest()\n"
        "print(sorted(m for m in ('hashlib', '_hashlib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
