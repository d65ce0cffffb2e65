"""Typed queries the API uses; each function takes the `AsyncSession` it runs in.

Functions flush but never commit: the caller owns the transaction.
"""
