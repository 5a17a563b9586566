from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from redis.exceptions import RedisError

from notifications import monitoring
from terminfinder.outbox.services import outbox_backlog


class Command(BaseCommand):
    help = "Show queue depths, worker heartbeat, outbox backlog and dead letters; requeue or discard."

    def add_arguments(self, parser):
        parser.add_argument("--requeue", nargs=2, metavar=("QUEUE", "MESSAGE_ID"), help="Requeue a dead letter.")
        parser.add_argument("--discard", nargs=2, metavar=("QUEUE", "MESSAGE_ID"), help="Discard a dead letter.")

    def handle(self, *args, requeue=None, discard=None, **options):
        try:
            if requeue:
                if not monitoring.dead_letter_requeue(*requeue):
                    raise CommandError("No such dead letter.")
                self.stdout.write(self.style.SUCCESS(f"Requeued {requeue[1]} on {requeue[0]}."))
                return
            if discard:
                if not monitoring.dead_letter_discard(*discard):
                    raise CommandError("No such dead letter.")
                self.stdout.write(self.style.SUCCESS(f"Discarded {discard[1]}."))
                return
            data = monitoring.overview()
        except RedisError as error:
            backlog = outbox_backlog()
            self.stdout.write(f"outbox: {backlog['unsent']} unsent")
            raise CommandError(f"Redis cannot be reached ({type(error).__name__}).") from error
        self.stdout.write(f"{'queue':<10}{'ready':>8}{'delayed':>10}{'dead':>8}{'oldest (s)':>13}")
        for q in data["queues"]:
            age = f"{q.oldest_ready_age_s:.1f}" if q.oldest_ready_age_s is not None else "-"
            self.stdout.write(f"{q.name:<10}{q.ready:>8}{q.delayed:>10}{q.dead:>8}{age:>13}")
        workers = data["workers"]
        last = timezone.localtime(workers["last"]).strftime("%Y-%m-%d %H:%M:%S") if workers["last"] else "never"
        self.stdout.write(f"workers: {workers['alive']} alive, last heartbeat {last}")
        outbox = data["outbox"]
        self.stdout.write(f"outbox: {outbox['unsent']} unsent")
        if data["dead_letters"]:
            self.stdout.write("dead letters:")
            for letter in data["dead_letters"]:
                failed = timezone.localtime(letter.failed_at).strftime("%Y-%m-%d %H:%M:%S")
                self.stdout.write(
                    f"  {letter.queue:<8} {letter.message_id}  {letter.actor}{tuple(letter.args)}  "
                    f"retries={letter.retries}  failed {failed}"
                )
