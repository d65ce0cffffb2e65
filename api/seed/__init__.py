"""What a desk starts with: `ticketflow init` (`bootstrap`) and the demo on top (`demo`).

`admins` makes admin accounts from the command line; `rules`, `templates` and `articles`
hold the default content. Every step is recorded in the seed ledger (`seeded_items`).
"""
