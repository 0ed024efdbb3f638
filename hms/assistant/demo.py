"""The assistant's first knowledge base: the questions patients ask most. Idempotent: an article
already there (by slug) is left as staff edited it. The benchmark reads ARTICLES too."""

from hms.assistant.models import Article
from hms.core.demo import DemoContext

ARTICLES = [
    ("visiting-hours", "Visiting hours",
     "visiting hours, visit, visitors, visiting times, see a patient on the ward, "
     "children visiting",
     "Wards are open to visitors every day from 14:00 to 20:00. Two visitors per bed at a time; "
     "children under 12 visit with an adult. Intensive care and maternity have their own times: "
     "ask the ward. Please do not visit if you have a cold, flu or a stomach bug."),
    ("departments", "Our departments",
     "departments, list of departments, services, specialties, specialities, clinics, what kind of "
     "clinics, what do you treat, cardiology, orthopaedics, "
     "paediatrics, dermatology, general medicine, emergency",
     "General Medicine (Block A, floor 1), Cardiology (Block B, floor 2), Paediatrics (Block C, "
     "floor 1), Orthopaedics (Block B, floor 1), Dermatology (Block A, floor 3) and the Emergency "
     "department (ground floor, main entrance, open 24 hours). Ask me to find a doctor in any of "
     "them."),
    ("blood-tests", "Preparing for a blood test",
     "blood test, bloods, bloodwork, blood sample, fasting, fast before, eat before, drink water, "
     "lab, phlebotomy, preparing, get ready",
     "Most blood tests need no preparation. For a fasting test (glucose, cholesterol) eat nothing "
     "for 10 to 12 hours before; water is fine and helps. Keep taking your usual medicines unless "
     "your doctor said otherwise. Bring your appointment letter and a list of your medicines."),
    ("insurance", "Insurance and paying",
     "insurance, insurer, covered, cover, pay, payment, bill, cost, price, self-pay, invoice",
     "We work with the main health insurers: bring your insurance card to every visit and we bill "
     "them directly. Without insurance you can pay by card at reception or online from your "
     "invoice. Questions about a bill: ask me to put you in touch with our billing team."),
    ("parking", "Parking",
     "parking, park, car park, leave my car, parking free, disabled parking, blue badge, "
     "bicycle, bike, cost of parking",
     "The visitor car park is at the main entrance off Infirmary Road: 2.00 for up to 4 hours, "
     "free for blue badge holders in the marked bays next to the entrance. Bicycle racks are by "
     "Block A. Parking is limited at midday: allow extra time."),
    ("contact", "Contacting the hospital",
     "contact, phone number, telephone, call, email, reach you, address, located, location, "
     "where is the hospital, opening hours, open, bus, directions",
     "Call +44 20 7946 0000 (Outpatients Mon–Fri 08:00–18:00) or write to contact@demo.hms. "
     "We are at 1 Infirmary Road, Demo City DC1 2AB; buses 12 and 40 stop at the main entrance. "
     "In an emergency call +44 20 7946 0999 at any time."),
    ("first-visit", "Your first appointment",
     "first appointment, first visit, what to bring, arrive, how early, ID, identification, "
     "letter, documents, medical records",
     "Arrive 15 minutes early and check in at the department's reception. Bring a photo ID, "
     "your insurance card, a list of your medicines and any letters or results. To get a copy of "
     "your medical records, write to us through Contact Us."),
]  # fmt: skip


def seed(ctx: DemoContext) -> None:
    for slug, title, keywords, body in ARTICLES:
        Article.objects.get_or_create(
            slug=slug, defaults={"title": title, "keywords": keywords, "body": body}
        )
