"""Temporal activities: every side effect of a ticket's workflow happens here."""
