"""Composition roots for the Temporal worker process."""
