"""Email leaves through the task queue, after the transaction that caused it commits: a slow or
failing mail server never holds up a request, and a rolled-back change sends nothing."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task


@task
def email_deliver(*, subject: str, body: str, to: list[str]) -> None:
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)


def email_after_commit(*, subject: str, body: str, to: str) -> None:
    transaction.on_commit(lambda: email_deliver.enqueue(subject=subject, body=body, to=[to]))
