"""Register a door display for a room; the last line printed is its URL, nothing else."""

from django.core.management.base import BaseCommand, CommandError

from bookings.models import Room
from displays.models import Display
from displays.services import create_display, display_url


class Command(BaseCommand):
    help = "Add a door display for a room and print its URL (shown only now; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--room", type=int, required=True, help="The room's id.")
        parser.add_argument("--name", default="", help="What the display is called in the fleet view.")
        parser.add_argument("--language", choices=Display.Language.values, default="de")
        parser.add_argument("--privacy", choices=Display.Privacy.values, default=Display.Privacy.TITLES)
        parser.add_argument("--no-check-in", action="store_true", help="No check-in at the door.")
        parser.add_argument("--no-book-now", action="store_true", help="No booking at the door.")

    def handle(self, *args, room: int, name: str, language: str, privacy: str, **options):
        room_obj = Room.objects.filter(pk=room).first()
        if room_obj is None:
            raise CommandError(f"No room with id {room}.")
        display, raw = create_display(
            room=room_obj,
            name=name,
            language=language,
            privacy=privacy,
            allow_check_in=not options["no_check_in"],
            allow_book_now=not options["no_book_now"],
        )
        self.stderr.write(
            f"Display #{display.pk} for {room_obj.name}; its URL is shown only now. "
            "Rotate or revoke it in the admin under door displays."
        )
        self.stdout.write(display_url(raw))
