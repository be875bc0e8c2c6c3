"""Delivery: invitations and updates by e-mail exactly once, private calendar subscriptions.

    mail.py        one iMIP message (RFC 6047) per outbox row: the invite file as its
                   text/calendar part, a short text in the participant's language
    ledger.py      delivery.sqlite in the outputs folder: what was sent, when, what failed
    transports.py  SMTP (STARTTLS/SSL, login) and the default: .eml files into outbox/
    send.py        `scheduler send`: the batch, exactly once, resumable, with progress
    site.py        `scheduler publish`: a static site of feeds under unguessable tokens

See docs/delivery.md.
"""
