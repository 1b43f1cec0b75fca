"""omnibase's version: one literal, read by packaging (pyproject.toml) and by
``omnibase --version`` without the cost of ``importlib.metadata``."""

__version__ = "0.1.0"
