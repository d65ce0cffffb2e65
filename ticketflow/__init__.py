"""ticketflow: a ticket lifecycle engine where every ticket is a durable Temporal workflow."""
