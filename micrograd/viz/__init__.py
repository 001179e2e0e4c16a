"""Drawing and exporting computation graphs; ``micrograd.draw`` is the public entry point."""
