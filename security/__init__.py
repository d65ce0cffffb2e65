"""Keys and what they protect, kept apart from every layer that uses them: signing keys and
signed links (`signing`, `survey_links`), and the payload codec that encrypts ticket data on
its way into Temporal (`payload_codec`).

It imports nothing of ticketflow's, so the API, the persistence layer (which signs links in
the messages it plans) and the composition roots can all use it.
"""
