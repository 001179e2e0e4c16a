"""nn: a small neural-net library built on the micrograd engine."""
