from django.core.management.base import BaseCommand

from terminfinder.outbox.services import outbox_backlog, outbox_relay


class Command(BaseCommand):
    help = "Send every outbox message still waiting (the scheduler does this every 20 seconds)."

    def handle(self, *args, **options):
        sent = outbox_relay()
        left = outbox_backlog()["unsent"]
        self.stdout.write(f"{sent} messages sent, {left} still waiting.")
