import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from hms.core.mail import email_after_commit
from hms.core.mail_backends import FolderEmailBackend

QUEUED = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=QUEUED)
def test_an_email_is_queued_at_commit_and_sent_by_the_worker():
    with transaction.atomic():
        email_after_commit(subject="Reminder", body="See you tomorrow.", to="pat@example.org")
        assert DBTaskResult.objects.count() == 0  # nothing leaves before the commit
    assert DBTaskResult.objects.count() == 1
    assert mail.outbox == []
    call_command("task_worker", "--burst", "--interval", "0.1", verbosity=0)  # the queue's own
    assert [m.to for m in mail.outbox] == [["pat@example.org"]]
    assert mail.outbox[0].subject == "Reminder"


@override_settings(TASKS_BACKEND="immediate")
def test_a_backend_without_a_queue_has_no_worker_to_start():
    with pytest.raises(CommandError, match="runs tasks without a queue"):
        call_command("task_worker", verbosity=0)


@pytest.mark.django_db(transaction=True)
@override_settings(TASKS=QUEUED)
def test_a_rolled_back_change_sends_no_email():
    with pytest.raises(RuntimeError), transaction.atomic():
        email_after_commit(subject="Reminder", body="x", to="pat@example.org")
        raise RuntimeError("the booking failed")
    assert DBTaskResult.objects.count() == 0
    assert mail.outbox == []


LONG_LINK = "https://hms.example.org/accounts/confirm/" + "Mg" * 60 + "/set-password/"


def test_the_folder_backend_writes_one_readable_file_per_message_with_links_unbroken(tmp_path):
    messages = [
        EmailMessage(f"Confirm your email {n}", f"Open {LONG_LINK} to confirm. Zoë", to=["a@b.c"])
        for n in (1, 2)
    ]
    assert FolderEmailBackend(file_path=str(tmp_path)).send_messages(messages) == 2
    files = sorted(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".txt", ".txt"]
    text = files[0].read_text(encoding="utf-8")
    assert "Subject: Confirm your email" in text and "To: a@b.c" in text
    assert f"Open {LONG_LINK} to confirm. Zoë" in text.splitlines()
