"""Hash constructors without ``hashlib``'s start-up.

``import hashlib`` loads OpenSSL and tries each of its algorithms (some 6-10 ms), paid by
a run that hashes a few things once (a failure snapshot's call keys, a fixer's edit). The
interpreter's own modules give the same digests at once; ``hashlib`` is the fallback
where they are missing (another Python, another build).
"""

from __future__ import annotations

from typing import Any

__all__ = ["blake2b", "sha256"]


def sha256(data: bytes = b"") -> Any:
    """A SHA-256 hash object of ``data`` (``hashlib.sha256``'s, the same digest)."""
    try:
        from _sha2 import sha256 as made  # type: ignore[import-not-found, unused-ignore]  # Python 3.12 and later
    except ImportError:
        try:
            from _sha256 import sha256 as made  # type: ignore[import-not-found, unused-ignore]  # Python 3.11
        except ImportError:  # a build without them
            from hashlib import sha256 as made
    return made(data)


def blake2b(data: bytes = b"", *, digest_size: int = 64) -> Any:
    """A BLAKE2b hash object of ``data`` (``hashlib.blake2b``'s, the same digest)."""
    try:
        from _blake2 import blake2b as made
    except ImportError:  # another Python
        from hashlib import blake2b as made
    return made(data, digest_size=digest_size)
