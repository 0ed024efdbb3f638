"""Print-ready PDFs (WeasyPrint) of invoices and receipts, from the same data as the pages.

The PDF templates carry their own print stylesheet (paged media, A4); they are never served as
HTML, so the pages' Content Security Policy does not apply to them. Nothing is fetched over the
network: the templates reference no external resource."""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from weasyprint import HTML

from hms.core.models import Hospital


def hospital_header() -> dict:
    hospital = Hospital.objects.first()
    return {
        "name": hospital.name if hospital else settings.HOSPITAL_NAME,
        "address": hospital.address if hospital else "",
        "phone": hospital.phone if hospital else "",
        "email": hospital.email if hospital else "",
    }


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"PDFs load no external resource ({url[:80]})")


def render_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, {"hospital": hospital_header(), **context})
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
