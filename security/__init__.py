"""Signing keys and what is signed with them: kept apart from every layer that uses them.

It imports nothing of ticketflow's, so the API, the persistence layer (which signs links in
the messages it plans) and the composition roots can all use it.
"""
