from django.core.management.base import BaseCommand

from hms.scheduling import services


class Command(BaseCommand):
    help = (
        "Send appointment reminders that are due and pass expired waitlist holds on. "
        "Run it from cron every few minutes; running it twice sends nothing twice."
    )

    def handle(self, *args, **options):
        sent = services.reminders_send_due()
        passed = services.waitlist_expire_offers()
        self.stdout.write(f"Sent {sent} reminder(s); passed on {passed} expired waitlist hold(s).")
