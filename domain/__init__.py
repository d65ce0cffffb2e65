"""The pure heart of ticketflow: ticket states, SLA clocks and the rules between them.

Nothing in this package does I/O, reads a clock or knows about settings: callers pass `now`.
Workflow code imports it through the sandbox, so it must stay deterministic.
"""
