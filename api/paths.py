"""Where the versioned API lives, and the codec server beside it."""

API_PREFIX = "/api/v1"
# At the root, not under the versioned API: the Temporal Web UI appends `/encode` and
# `/decode` to the codec endpoint it is given (`http(s)://api-host/codec`).
CODEC_PREFIX = "/codec"
