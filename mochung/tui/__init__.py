"""The admin app (``mochung tui``): a Textual client of the server over HTTP and Socket.IO.

Keys: 1 dashboard · 2 users · 3 moderation · 4 live chat · 5 payments · 6 evaluation ·
ctrl+p command palette · ctrl+l log out · escape back to the list. Each screen's own keys
are in its footer. ``--read-only`` hides and refuses every state change.
"""
