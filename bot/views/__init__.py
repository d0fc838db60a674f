"""Screens: pure functions (data, Fmt) → Screen. They format and never query."""
