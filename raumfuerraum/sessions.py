"""Database sessions that leave the database alone while it is read-only.

On the DR site's standby every session write would fail (SQLSTATE 25006) and turn a
page view into an error. In read-only mode a changed session (a remembered building, a
sign-out) stays in this response only: reading and browsing keep working, signing out
clears the cookie, and signing in is refused before it gets here (see middleware).
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from . import read_only


class SessionStore(DatabaseSessionStore):
    def save(self, must_create=False):
        if read_only.active():
            return
        super().save(must_create=must_create)

    def delete(self, session_key=None):
        if read_only.active():
            return
        super().delete(session_key)
