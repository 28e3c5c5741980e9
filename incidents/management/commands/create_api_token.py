from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.errors import DomainError
from incidents.models import TokenScope
from incidents.services.tokens import OPERATOR, api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for USER and print the key alone on the last line. "
        "The key is stored hashed and cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=TokenScope.values,
            help="read, write or ingest; repeat for several (default: read and write).",
        )
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, username, scopes, name, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        try:
            token, key = api_token_create(
                actor=OPERATOR, user=user, name=name, scopes=scopes or ["read", "write"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Created token {token.prefix}… for {username} with scopes "
            f"{', '.join(token.scopes)}. Store the key now; it is not shown again."
        )
        self.stdout.write(key)
