"""The handle and its futures."""
