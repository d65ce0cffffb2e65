"""Inbound webhooks: e-mail (SendGrid Inbound Parse), SMS (Twilio) and Slack buttons.

Each checks its provider's proof first (`proofs`), then lands the message on a ticket: a reply
signalled to the ticket's workflow, or a new ticket opened like `POST /tickets` does.
"""
