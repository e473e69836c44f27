"""Print a new API token for a user; the last line is the token, nothing else."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bookings.services.tokens import issue_token


class Command(BaseCommand):
    help = "Issue an API token (Authorization: Bearer ...) for USERNAME and print it."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for (shown in the admin).")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        token, raw = issue_token(user=user, name=name)
        self.stderr.write(
            f"Token {token.prefix}… for {username}; it is shown only now. "
            "Revoke it in the admin under API tokens."
        )
        self.stdout.write(raw)
