"""`manage.py task_worker`: runs background tasks from the queue that TASKS_BACKEND names.

One command whatever the queue, so that `make run`, a process manager or a container starts
workers the same way: the database queue (django-tasks-db's `db_worker`) or RQ on Redis
(django-rq's `rqworker`, with the job class that runs Django tasks). Start as many as needed,
on as many machines as needed; each task is taken by one of them.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

RQ_JOB_CLASS = "django_tasks_rq.Job"


class Command(BaseCommand):
    help = "Runs background tasks from the configured queue (TASKS_BACKEND: database or rq)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--burst", action="store_true", help="stop when the queue is empty (for cron or tests)"
        )
        parser.add_argument("--name", help="this worker's name, unique among the workers")
        parser.add_argument(
            "--interval",
            default="1",
            help="seconds between looks at an empty queue (database; RQ is told at once)",
        )
        parser.add_argument(
            "--reload", action="store_true", help="restart on code changes (database; development)"
        )

    def handle(self, *args, burst: bool, name: str | None, interval: str, reload: bool, **options):
        verbosity = options["verbosity"]
        if settings.TASKS_BACKEND == "rq":
            call_command(
                "rqworker",
                "default",
                job_class=RQ_JOB_CLASS,
                with_scheduler=True,  # moves tasks queued to run later (outbox delivery) when due
                burst=burst,
                name=name,
                verbosity=verbosity,
            )
        elif settings.TASKS_BACKEND == "database":
            extra = ["--interval", interval, "--reload" if reload else "--no-reload"]
            extra += ["--batch"] if burst else []
            extra += ["--worker-id", name] if name else []
            call_command("db_worker", *extra, verbosity=verbosity)
        else:
            backend = settings.TASKS_BACKEND
            raise CommandError(f"TASKS_BACKEND={backend} runs tasks without a queue: no worker.")
