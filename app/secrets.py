"""Masking of session ids and keys: pure, so every layer can log a session without importing Flask."""

from __future__ import annotations


def mask(secret: str) -> str:
    """``…last4`` for ids long enough that 4 characters reveal nothing; ``…`` otherwise."""
    return f"…{secret[-4:]}" if len(secret) > 8 else "…"
