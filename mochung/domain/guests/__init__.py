"""What guests do on a published page (PROTOCOL.md "Guests"): answer the invitation (RSVP),
write in the guestbook, add the wedding to their calendar, share a link preview.

- :mod:`.settings`: the couple's switches, ``Page.settings``
- :mod:`.rsvps`: answers, their edit tokens, the couple's list and summary
- :mod:`.guestbook`: entries with a password, the couple's and the admins' moderation
- :mod:`.calendar`: the page's ``calendar.ics`` (RFC 5545)
- :mod:`.wedding`: the facts of a page the guest features read (names, date, venue)
"""
