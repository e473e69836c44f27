"""The rules facility management sets, resolved for a room and applied to a request.

- ``resolve.py``: what a room's policies add up to (``Rules``, nearest place wins) and
  the blockings that meet a time; the loading, with its query counts.
- ``catalogue.py``: one entry per rule, holding the policy fields it reads, why it
  refuses a request and the sentence that explains it on the room page; ``check``,
  ``describe``, ``cancel_reason`` and ``obstacles`` apply them.
- ``groups.py``: who may book, override the rules or manage a room, and which rooms a
  person may see but not book.
"""
