"""Request and response bodies of the API (pydantic v2); nothing here exposes a secret."""
