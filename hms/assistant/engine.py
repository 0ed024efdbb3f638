"""One turn of the conversation: understand the message, then answer or act.

Order matters: an emergency wins over everything (a pending booking included); then a waiting
confirmation or choice; then a request for medical advice (declined); then the intent. Every
action on a patient's record goes through the same services as the portal, with the signed-in
user as the actor, and only after an explicit "yes" to a summary stored in the conversation.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from hms.assistant import nlu
from hms.assistant.models import Article
from hms.billing.selectors import patient_balance
from hms.core.audit import audit_record
from hms.core.errors import DomainError
from hms.core.models import Department
from hms.core.selectors import hospital_get
from hms.feedback.services import contact_message_submit
from hms.patients.selectors import patient_of_user
from hms.scheduling import selectors as scheduling
from hms.scheduling import services as booking
from hms.scheduling.models import AppointmentStatus, BookingChannel
from hms.scheduling.slots import free_slots, local_zone, next_free_slots

MISSES_BEFORE_HANDOFF = 2
OPTIONS = 5
SEARCH_DAYS = 14
CHANNEL = getattr(BookingChannel, "ASSISTANT", BookingChannel.PORTAL)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d ()-]{6,}\d")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": OPTIONS}


@dataclass
class Reply:
    text: str
    intent: str
    confidence: float = 1.0
    actions: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)


def _say(label: str, send: str) -> dict:
    return {"label": label, "send": send}


def _link(label: str, url: str) -> dict:
    return {"label": label, "url": url}


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment, local_zone()):%a %d %b at %H:%M}"


# --- Knowledge base -------------------------------------------------------------------------

_index: tuple[object, nlu.KnowledgeIndex] | None = None


def knowledge_index() -> nlu.KnowledgeIndex:
    """The index of the active articles, rebuilt when an article changes (one query to know)."""
    global _index
    articles = Article.objects.filter(is_active=True)
    signature = articles.aggregate(changed=Max("updated_at"), n=Max("pk"))
    signature = (signature["changed"], signature["n"], articles.count())
    if _index is None or _index[0] != signature:
        docs = [
            nlu.Doc(a.pk, a.title, a.keywords, a.body)
            for a in articles.only("pk", "title", "keywords", "body")
        ]
        _index = (signature, nlu.KnowledgeIndex(docs))
    return _index[1]


def _article_reply(doc: nlu.Doc, confidence: float) -> Reply:
    slug = Article.objects.filter(pk=doc.key).values_list("slug", flat=True).first()
    url = reverse("assistant:article", args=[slug])
    body = doc.body if len(doc.body) <= 600 else doc.body[:600].rsplit(" ", 1)[0] + "…"
    return Reply(
        f"{doc.title}\n{body}",
        "faq",
        confidence,
        sources=[{"title": doc.title, "url": url}],
        actions=[_link("Read the whole article", url)],
    )


# --- What the message names -----------------------------------------------------------------


def _department_in(text: str) -> Department | None:
    departments = list(Department.objects.filter(is_active=True).only("pk", "name"))
    name = nlu.department_named(text, [d.name for d in departments])
    return next((d for d in departments if d.name == name), None)


def _doctors_named(text: str) -> list:
    tokens = nlu.words(text)
    found = []
    for doctor in scheduling.practitioners_search(online_only=True):
        family = nlu.normalise(doctor.family_name)
        if len(family) >= 3 and any(nlu.word_matches(t, family) for t in tokens):
            found.append(doctor)
    return found


def _window(text: str) -> tuple[datetime, datetime, tuple[int, int] | None]:
    """The time the message asks about ("tomorrow", "next tuesday afternoon", "next week"):
    local start and end, and the hours of the day wanted. Default: the next two weeks."""
    tokens = nlu.words(text)
    today = timezone.localtime(timezone.now(), local_zone()).date()
    first: date | None = None
    days = SEARCH_DAYS
    if "today" in tokens:
        first, days = today, 1
    elif "tomorrow" in tokens or "tmrw" in tokens:
        first, days = today + timedelta(days=1), 1
    elif "week" in tokens and "next" in tokens:
        first, days = today + timedelta(days=7 - today.weekday()), 7
    else:
        for n, name in enumerate(WEEKDAYS):
            if any(t == name or (len(t) >= 3 and name.startswith(t)) for t in tokens if t != "sun"):
                ahead = (n - today.weekday()) % 7 or 7
                if "next" in tokens and ahead < 7 and (n - today.weekday()) % 7 == ahead:
                    ahead = ahead if ahead > 1 else ahead + 7
                first, days = today + timedelta(days=ahead), 1
                break
    hours = None
    if "morning" in tokens:
        hours = (0, 12)
    elif "afternoon" in tokens:
        hours = (12, 17)
    elif "evening" in tokens:
        hours = (17, 24)
    first = first or today
    start = datetime.combine(first, time(0), tzinfo=local_zone())
    return start, start + timedelta(days=days), hours


def _slots(text: str, *, practitioner_ids=None, department_id=None, patient=None) -> list:
    start, end, hours = _window(text)
    found = free_slots(
        start=start,
        end=end,
        practitioner_ids=practitioner_ids,
        department_id=department_id,
        for_patient=patient,
        online_only=True,
    )
    if hours is not None:
        found = [
            s
            for s in found
            if hours[0] <= timezone.localtime(s.start, local_zone()).hour < hours[1]
        ]
    # Spread the choice over doctors: at most two times of each among the first options.
    chosen, per_doctor = [], {}
    for slot in found:
        if per_doctor.get(slot.practitioner_id, 0) < 2:
            chosen.append(slot)
            per_doctor[slot.practitioner_id] = per_doctor.get(slot.practitioner_id, 0) + 1
        if len(chosen) == OPTIONS:
            break
    return chosen


def _names_of(ids) -> dict:
    return {d.pk: d for d in scheduling.practitioners_search().filter(pk__in=list(ids))}


# --- The turn -------------------------------------------------------------------------------


class Turn:
    def __init__(self, *, user, state: dict, history: list[str]):
        self.user = user
        self.state = state
        self.history = history  # the user's earlier messages in this conversation
        self.signed_in = bool(user is not None and user.is_authenticated)

    def respond(self, text: str) -> Reply:
        understood = nlu.understand(text, knowledge_index())
        if understood.intent == "emergency":
            self.state.pop("pending", None)
            self.state.pop("offers", None)
            return self.emergency(understood)
        if self.state.pop("awaiting_contact", False):
            reply = self.take_contact_details(text)
            if reply is not None:
                return reply
        pending = self.state.pop("pending", None)
        if pending is not None:
            if nlu.is_one_of(text, "confirm"):
                return self.carry_out(pending)
            if nlu.is_one_of(text, "deny"):
                self.state.pop("offers", None)
                return Reply("All right, nothing was changed.", understood.intent, 1.0)
        choice = self.option_chosen(text)
        if choice is not None:
            return self.offer(choice)
        if understood.advice:
            return self.no_medical_advice()
        reply = self.answer(text, understood)
        if reply.intent == "unknown":
            self.state["misses"] = self.state.get("misses", 0) + 1
            if self.state["misses"] >= MISSES_BEFORE_HANDOFF:
                self.state["misses"] = 0
                handoff = self.handoff(understood, asked=False)
                handoff.intent, handoff.confidence = "unknown", understood.confidence
                return handoff
        else:
            self.state["misses"] = 0
        return reply

    def answer(self, text: str, understood: nlu.Understanding) -> Reply:
        handler = getattr(self, understood.intent, None)
        if handler is None:
            return self.unknown(understood)
        return handler(text, understood)

    # --- Safety ---

    def emergency(self, understood: nlu.Understanding) -> Reply:
        place = hospital_get()
        number = (place.emergency_phone if place else "") or "your local emergency number"
        return Reply(
            f"This may be an emergency. Call {number} now, or go to the nearest emergency "
            "department. If someone is unconscious, not breathing or bleeding heavily, call "
            f"{number} immediately. Please do not wait for this chat.",
            "emergency",
            1.0,
            actions=[_link(f"Call {number}", f"tel:{number.replace(' ', '')}")]
            if place and place.emergency_phone
            else [],
        )

    def no_medical_advice(self) -> Reply:
        return Reply(
            "I can't diagnose conditions or recommend or prescribe medicines: only a clinician "
            "who examines you can. I can help you book an appointment with a doctor, or find "
            "the right department. If it feels urgent, call the emergency number.",
            "faq",
            1.0,
            actions=[_say("Book an appointment", "Book an appointment")],
        )

    # --- Plain answers ---

    def greeting(self, text: str, understood) -> Reply:
        return Reply(
            "Hello! I can answer questions about the hospital (visiting hours, parking, "
            "insurance...), find a doctor, show free appointments and, once you are signed in, "
            "book, move or cancel your appointments. I can't give medical advice.",
            "greeting",
            understood.confidence,
            actions=[
                _say("Visiting hours", "What are the visiting hours?"),
                _say("Find a doctor", "Find a doctor"),
                _say("My appointments", "My appointments"),
            ],
        )

    def faq(self, text: str, understood) -> Reply:
        return _article_reply(understood.article[0], understood.confidence)

    def unknown(self, understood, *args) -> Reply:
        if args:  # called as a handler: (text, understood)
            understood = args[0]
        return Reply(
            "Sorry, I didn't understand that. I can answer questions about the hospital, find "
            "a doctor, show free appointments, and book, move or cancel yours. You can also ask "
            "to talk to a person.",
            "unknown",
            understood.confidence,
            actions=[_say("Talk to a person", "I want to talk to a person")],
        )

    # --- Doctors and slots ---

    def find_doctor(self, text: str, understood) -> Reply:
        doctors = _doctors_named(text)
        department = None if doctors else _department_in(text)
        if department is not None:
            doctors = list(
                scheduling.practitioners_search(department_id=department.pk, online_only=True)
            )
        if not doctors:
            return self.ask_department("find_doctor", understood)
        doctors = doctors[:OPTIONS]
        first = next_free_slots([d.pk for d in doctors], days=SEARCH_DAYS, online_only=True)
        lines, offers = [], []
        for doctor in doctors:
            slot = first.get(doctor.pk)
            specialty = getattr(getattr(doctor, "staff_profile", None), "specialty", "")
            line = f"{doctor.full_name}" + (f" ({specialty})" if specialty else "")
            if slot is not None:
                offers.append(slot)
                line += f": next free {_when(slot.start)}, option {len(offers)}"
            lines.append(line)
        head = f"{department.name}: " if department else ""
        reply = Reply(
            head + "these doctors take appointments.\n" + "\n".join(lines),
            "find_doctor",
            understood.confidence,
        )
        self.remember_offers(offers, reply)
        return reply

    def available_slots(self, text: str, understood, intent: str = "available_slots") -> Reply:
        doctors = _doctors_named(text)
        department = None if doctors else _department_in(text)
        if not doctors and department is None:
            return self.ask_department(intent, understood)
        patient = patient_of_user(self.user) if self.signed_in else None
        slots = _slots(
            text,
            practitioner_ids=[d.pk for d in doctors] if doctors else None,
            department_id=department.pk if department else None,
            patient=patient,
        )
        who = ", ".join(d.full_name for d in doctors) if doctors else department.name
        if not slots:
            return Reply(
                f"I found no free time with {who} then. Try another day, or ask for the "
                "waitlist in the portal.",
                intent,
                understood.confidence,
            )
        names = _names_of({s.practitioner_id for s in slots})
        lines = [
            f"Option {n}: {_when(s.start)} with {names[s.practitioner_id].full_name}"
            + (f" ({s.location})" if s.location else "")
            for n, s in enumerate(slots, 1)
        ]
        reply = Reply(f"Free times with {who}:\n" + "\n".join(lines), intent, understood.confidence)
        self.remember_offers(slots, reply)
        return reply

    def ask_department(self, intent: str, understood) -> Reply:
        departments = Department.objects.filter(is_active=True).values_list("name", flat=True)
        verb = "Free times in" if intent == "available_slots" else "Book with"
        if intent == "find_doctor":
            verb = "Doctors in"
        return Reply(
            "Which department or doctor? You can also describe what is wrong in a few words "
            '("my knee hurts"), and I will suggest a department.',
            intent,
            understood.confidence,
            actions=[_say(name, f"{verb} {name}") for name in departments[:8]],
        )

    def remember_offers(self, slots: list, reply: Reply, mode: str = "book", **extra) -> None:
        if not slots:
            return
        self.state["offers"] = {
            "mode": mode,
            "slots": [
                {"practitioner": s.practitioner_id, "start": s.start.isoformat()} for s in slots
            ],
            **extra,
        }
        verb = {"book": "Book", "reschedule": "Move to"}[mode]
        reply.actions += [
            _say(f"{verb} option {n}", f"option {n}") for n in range(1, len(slots) + 1)
        ]
        if mode == "book" and not self.signed_in:
            reply.text += "\nSign in to book one of these."
            reply.actions = [_link("Sign in", reverse("accounts:login"))]
        else:
            reply.text += "\nChoose an option: I will ask you to confirm before anything changes."

    def option_chosen(self, text: str) -> tuple[dict, int] | None:
        offers = self.state.get("offers")
        if not offers:
            return None
        said = nlu.words(text)
        if not said or len(said) > 6:
            return None
        number = next((int(t) for t in said if t.isdigit()), None)
        if number is None:
            number = next((ORDINALS[t] for t in said if t in ORDINALS), None)
        if number is None or not 1 <= number <= len(offers["slots"]):
            return None
        return offers, number - 1

    def offer(self, choice: tuple[dict, int]) -> Reply:
        offers, index = choice
        intent = {"book": "book_appointment", "reschedule": "reschedule_appointment"}[
            offers["mode"]
        ]
        if not self.signed_in:
            return self.sign_in_first(intent)
        slot = offers["slots"][index]
        doctor = _names_of([slot["practitioner"]]).get(slot["practitioner"])
        if doctor is None:
            return Reply("That doctor no longer takes appointments online.", intent)
        start = datetime.fromisoformat(slot["start"])
        where = doctor.schedule.department.name if doctor.schedule.department_id else ""
        if offers["mode"] == "book":
            question = f"Book {doctor.full_name} ({where}) on {_when(start)}?"
            pending = {"action": "book", **slot}
        else:
            question = f"Move your appointment to {_when(start)} with {doctor.full_name}?"
            pending = {"action": "reschedule", "appointment": offers["appointment"], **slot}
        self.state["pending"] = pending
        return Reply(
            question + " Say yes to confirm, or no.",
            intent,
            1.0,
            actions=[_say("Yes, confirm", "yes"), _say("No", "no")],
        )

    # --- The signed-in patient's own record ---

    def sign_in_first(self, intent: str) -> Reply:
        return Reply(
            "Please sign in first: I only talk about appointments and bills with the patient "
            "they belong to.",
            intent,
            1.0,
            actions=[_link("Sign in", reverse("accounts:login"))],
        )

    def own_patient(self, intent: str):
        """The signed-in user's patient record, or a reply saying why there is none."""
        if not self.signed_in:
            return None, self.sign_in_first(intent)
        patient = patient_of_user(self.user)
        if patient is None:
            return None, Reply(
                "I can only show patients their own record, and your account has none.",
                intent,
            )
        return patient, None

    def upcoming(self) -> list:
        page = scheduling.portal_appointments_for(user=self.user)  # audited
        return [a for a in page.upcoming if a.status == AppointmentStatus.BOOKED]

    def my_appointments(self, text: str, understood) -> Reply:
        patient, refusal = self.own_patient("my_appointments")
        if refusal:
            return refusal
        coming = self.upcoming()
        if not coming:
            return Reply(
                "You have no upcoming appointments.",
                "my_appointments",
                understood.confidence,
                actions=[_say("Book an appointment", "Book an appointment")],
            )
        lines = [
            f"{_when(a.start)}: {a.practitioner.full_name}, {a.department.name}"
            + (f" ({a.location})" if a.location else "")
            for a in coming[:5]
        ]
        return Reply(
            f"Your next appointment is on {lines[0]}."
            + ("\nThen:\n" + "\n".join(lines[1:]) if len(lines) > 1 else ""),
            "my_appointments",
            understood.confidence,
            actions=[_link("All my appointments", reverse("scheduling:portal-appointments"))],
        )

    def my_balance(self, text: str, understood) -> Reply:
        patient, refusal = self.own_patient("my_balance")
        if refusal:
            return refusal
        owed, credit = patient_balance(patient.pk)
        audit_record(action="assistant.balance_view", actor=self.user, patient=patient)
        text = f"You owe {owed:.2f}." if owed else "You owe nothing."
        if credit:
            text += f" You have {credit:.2f} in credit."
        return Reply(text, "my_balance", understood.confidence)

    def book_appointment(self, text: str, understood) -> Reply:
        if not self.signed_in:
            reply = self.available_slots(text, understood, intent="book_appointment")
            if not reply.actions or reply.actions[0].get("send", "").startswith("Book with"):
                reply.text += "\nYou will need to sign in to book."
            return reply
        if self.own_patient("book_appointment")[1] is not None:
            return self.own_patient("book_appointment")[1]
        return self.available_slots(text, understood, intent="book_appointment")

    def reschedule_appointment(self, text: str, understood) -> Reply:
        intent = "reschedule_appointment"
        patient, refusal = self.own_patient(intent)
        if refusal:
            return refusal
        coming = self.upcoming()
        if not coming:
            return Reply("You have no booked appointment to move.", intent, understood.confidence)
        appointment = coming[0]
        slots = [
            s
            for s in _slots(text, practitioner_ids=[appointment.practitioner_id], patient=patient)
            if s.start != appointment.start
        ]
        head = (
            f"Your next appointment: {_when(appointment.start)} with "
            f"{appointment.practitioner.full_name}."
        )
        if not slots:
            return Reply(
                head + " I found no other free time with this doctor then; try another day.",
                intent,
                understood.confidence,
            )
        lines = [f"Option {n}: {_when(s.start)}" for n, s in enumerate(slots, 1)]
        reply = Reply(head + " Free times:\n" + "\n".join(lines), intent, understood.confidence)
        self.remember_offers(slots, reply, mode="reschedule", appointment=str(appointment.pk))
        return reply

    def cancel_appointment(self, text: str, understood) -> Reply:
        intent = "cancel_appointment"
        patient, refusal = self.own_patient(intent)
        if refusal:
            return refusal
        coming = self.upcoming()
        if not coming:
            return Reply("You have no booked appointment to cancel.", intent, understood.confidence)
        appointment = coming[0]
        self.state["pending"] = {"action": "cancel", "appointment": str(appointment.pk)}
        return Reply(
            f"Cancel your appointment on {_when(appointment.start)} with "
            f"{appointment.practitioner.full_name}? Say yes to confirm, or no.",
            intent,
            understood.confidence,
            actions=[_say("Yes, cancel it", "yes"), _say("No, keep it", "no")],
        )

    def carry_out(self, pending: dict) -> Reply:
        """The confirmed action, through the portal's own services (their rules all hold)."""
        action = pending["action"]
        intent = {
            "book": "book_appointment",
            "reschedule": "reschedule_appointment",
            "cancel": "cancel_appointment",
        }[action]
        if not self.signed_in:
            return self.sign_in_first(intent)
        self.state.pop("offers", None)
        try:
            if action == "book":
                doctor = (
                    scheduling.practitioners_search(online_only=True)
                    .filter(pk=pending["practitioner"])
                    .first()
                )
                if doctor is None:
                    return Reply("That doctor no longer takes appointments online.", intent)
                appointment = booking.appointment_book_as(
                    actor=self.user,
                    practitioner=doctor,
                    start=datetime.fromisoformat(pending["start"]),
                    reason="Booked through the assistant",
                    channel=CHANNEL,
                )
                done = f"Booked: {_when(appointment.start)} with {doctor.full_name}."
            else:
                appointment = scheduling.appointment_get_for_user(
                    user=self.user, appointment_id=pending["appointment"]
                )
                if action == "reschedule":
                    appointment = booking.appointment_reschedule(
                        actor=self.user,
                        appointment=appointment,
                        start=datetime.fromisoformat(pending["start"]),
                    )
                    done = f"Moved: your appointment is now {_when(appointment.start)}."
                else:
                    booking.appointment_cancel(
                        actor=self.user,
                        appointment=appointment,
                        reason="Cancelled through the assistant",
                    )
                    done = f"Cancelled your appointment of {_when(appointment.start)}."
        except DomainError as exc:
            return Reply(f"That did not work: {exc.message}", intent, 1.0)
        return Reply(
            done,
            intent,
            1.0,
            actions=[_link("My appointments", reverse("scheduling:portal-appointments"))],
        )

    # --- A person ---

    def human_handoff(self, text: str, understood) -> Reply:
        return self.handoff(understood, asked=True)

    def handoff(self, understood, *, asked: bool) -> Reply:
        why = "" if asked else "I'm sorry I couldn't help. "
        if not self.signed_in:
            self.state["awaiting_contact"] = True
            return Reply(
                why + "I can pass your question to our patient relations team. Please send your "
                "name and an email address or phone number, and they will get back to you.",
                "human_handoff",
                understood.confidence,
                actions=[_link("Or write to us", reverse("feedback:contact"))],
            )
        contact = contact_message_submit(
            name=self.user.full_name or self.user.email,
            email=self.user.email,
            topic="other",
            message=self.transcript(),
            sender=self.user,
        )
        return Reply(
            why + f"I have passed your conversation to our patient relations team (reference "
            f"C-{contact.pk}). They answer within two working days, by email to {self.user.email}.",
            "human_handoff",
            understood.confidence,
        )

    def take_contact_details(self, text: str) -> Reply | None:
        email = EMAIL.search(text)
        phone = PHONE.search(text)
        if email is None and phone is None:
            return None
        name = text
        for found in (email, phone):
            if found is not None:
                name = name.replace(found.group(0), " ")
        name = re.sub(r"\b(my name is|i am|i'm|name|email|phone|and|is)\b", " ", name, flags=re.I)
        name = " ".join(re.sub(r"[^\w' -]", " ", name).split())[:120] or "Website visitor"
        contact = contact_message_submit(
            name=name,
            email=email.group(0) if email else "",
            phone=phone.group(0) if phone and not email else "",
            topic="other",
            message=self.transcript(),
        )
        return Reply(
            f"Thank you. Our patient relations team has your message (reference C-{contact.pk}) "
            "and will get back to you within two working days.",
            "human_handoff",
            1.0,
        )

    def transcript(self) -> str:
        said = [m for m in self.history[-6:] if not EMAIL.search(m)]
        return "Asked through the assistant:\n" + "\n".join(f"- {m}" for m in said)
