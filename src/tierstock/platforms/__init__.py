"""Adapters to the store platforms' open APIs, one module per platform (base.py)."""
