"""The trivial work both sides of bench_process.py run in a worker process."""

from returns.result import Success


def inc(ctx: object, x: int) -> object:
    """A registry-style component: ``(ctx, x) -> Result``."""
    return Success(x + 1)


def plain_inc(x: int) -> int:
    """The same work as a plain function, for ``ProcessPoolExecutor.submit``."""
    return x + 1
