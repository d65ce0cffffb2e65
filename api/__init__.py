"""The HTTP façade: turns requests into read-model reads and ticket-workflow messages."""
