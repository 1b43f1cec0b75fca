"""Drivers: the performers of the interpreter's intents, and the only impure code.

Each execution mode is a driver over the one interpreter: ``SyncDriver`` (real clock,
calls in the calling thread) and ``FakeDriver`` (virtual clock, for tests).
"""

from omnibase.drivers._base import Driver, Observer, run
from omnibase.drivers.fake import FakeDriver
from omnibase.drivers.sync import SyncDriver

__all__ = ["Driver", "FakeDriver", "Observer", "SyncDriver", "run"]
