"""Drivers: the performers of the interpreter's intents, and the loops that drive it.

Each execution mode is a performer (or a performer wrapping another) over the one
interpreter, one module each: ``sync`` (``SyncDriver``: real clock, calls in the calling
thread), ``aio`` (``AsyncDriver``: asyncio, used by ``arun``), ``fake`` (``FakeDriver``:
virtual clock, for tests), ``dryrun``, ``profile``, ``replay`` (and its ``Recorder``),
``debugger``, ``dask``, and ``isolation/`` (worker processes). ``_base`` holds the protocol
and the loops, ``runs`` puts them together (``run``/``arun``), ``kinds`` says how each kind
of component is called, and ``modes`` stacks performers for the CLI's ``--mode``.
"""

from typing import TYPE_CHECKING

from omnibase.drivers._base import AsyncPerformer, Observer, Performer, adrive, drive
from omnibase.drivers.runs import arun, run
from omnibase.drivers.fake import FakeDriver
from omnibase.drivers.sync import SyncDriver

__all__ = [
    "AsyncDriver",
    "AsyncPerformer",
    "FakeDriver",
    "Observer",
    "Performer",
    "SyncDriver",
    "adrive",
    "arun",
    "drive",
    "run",
]

if TYPE_CHECKING:
    from omnibase.drivers.aio import AsyncDriver


def __getattr__(name: str) -> object:
    if name == "AsyncDriver":  # asyncio is imported only by those who use it
        from omnibase.drivers.aio import AsyncDriver

        return AsyncDriver
    raise AttributeError(f"module 'omnibase.drivers' has no attribute {name!r}")
