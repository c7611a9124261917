"""Support modules for the flux package (not a public API)."""
