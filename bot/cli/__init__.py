"""Operator commands of `main.py`, one module per section."""
