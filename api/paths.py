"""Where the versioned API lives."""

API_PREFIX = "/api/v1"
