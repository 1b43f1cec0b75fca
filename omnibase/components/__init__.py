"""Components omnibase ships: the built-in checks wrapped as pipeline components."""
