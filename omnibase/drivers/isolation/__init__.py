"""Process isolation: the process performer, its worker, spawning and killing children, and the sandbox (docs/isolation.md)."""
