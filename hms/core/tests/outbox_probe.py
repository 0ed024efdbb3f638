"""A durable subscriber for the outbox tests, imported by the test and by the worker process it
starts. With "hang" in the payload, its first delivery records that it started and then hangs
(the test kills the worker there); every delivery that completes writes one notification."""

import os
import time
from pathlib import Path

from hms.core.events import register_event, subscribe_async
from hms.core.models import Notification

PROBE = "test.outbox_probe"
FLAKY = "test.outbox_flaky"
seen: list[str] = []
register_event(FLAKY, {"thing_id": "id", "key": "str"}, "A test event.", aggregate="thing_id")


@subscribe_async(PROBE, name="test.outbox_probe")
def probe(*, event):
    folder = os.environ.get("HMS_OUTBOX_PROBE_DIR")
    if folder and event.payload.get("hang"):
        marker = Path(folder) / "started"
        first = not marker.exists()
        marker.write_text(str(event.event_id))
        if first:
            time.sleep(300)
    seen.append(event.payload.get("key", ""))
    Notification.objects.create(user_id=event.payload["user"], title=f"probe {event.event_id}")


failures = {"left": 0}


@subscribe_async(FLAKY, name="test.outbox_flaky")
def flaky(*, event):
    if failures["left"] > 0:
        failures["left"] -= 1
        raise RuntimeError("receiver down")
    seen.append(event.payload.get("key", ""))
