"""Pages of the pharmacy and stores: thin, each calls one service or selector."""

import csv
import io
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from hms.clinical.models import Prescription
from hms.core.access import require_perm
from hms.core.audit import audit_record, audit_record_patients
from hms.core.errors import DomainError
from hms.core.forms import form_add_domain_error
from hms.core.permissions import Perm, user_has_perm
from hms.core.spreadsheets import csv_download
from hms.inventory import charts, forms, selectors, services
from hms.inventory.models import (
    Alert,
    Item,
    ItemKind,
    Location,
    Movement,
    OrderStatus,
    PurchaseOrder,
    ReorderLevel,
    Supplier,
)


def _show_error(form, exc: DomainError) -> None:
    """The refusal on the fields it names, and its whole message above the form."""
    form_add_domain_error(form, exc)
    if exc.message not in form.non_field_errors():
        form.add_error(None, exc.message)


# --- Overview and catalogue ----------------------------------------------------------------------


@require_perm(Perm.INVENTORY_VIEW)
def home(request):
    query, kind = (request.GET.get("q") or "")[:80], request.GET.get("kind") or ""
    if kind not in ItemKind.values:
        kind = ""
    page = Paginator(selectors.items_with_stock(query=query, kind=kind), 30).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "query": query,
        "kind": kind,
        "kinds": ItemKind.choices,
        "alerts": list(selectors.open_alerts()[:5]),
        "locations": Location.objects.all(),
        "can_write": user_has_perm(request.user, Perm.INVENTORY_WRITE),
    }
    return render(request, "inventory/home.html", context)


@require_perm(Perm.INVENTORY_WRITE)
def item_add(request):
    form = forms.ItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.item_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{item} added to the catalogue.")
            return redirect("inventory:item", item.pk)
    return render(request, "inventory/form.html", {"form": form, "title": "Add an item"})


@require_perm(Perm.INVENTORY_WRITE)
def item_edit(request, pk):
    item = get_object_or_404(Item, pk=pk)
    initial = {f: getattr(item, f) for f in services.ITEM_FIELDS}
    form = forms.ItemEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.item_update(actor=request.user, item=item, **form.cleaned_data)
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, f"{item.code} saved.")
            return redirect("inventory:item", item.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "inventory/form.html", {"form": form, "title": f"Edit {item.code}"}, status=status
    )


def _item_page(request, item, status=200, **bound):
    stock = list(selectors.stock_of(item=item))
    context = {
        "item": item,
        "stock": stock,
        "total": sum(s.on_hand for s in stock),
        "levels": ReorderLevel.objects.filter(item=item).select_related("location"),
        "movements": Movement.objects.filter(item=item).select_related("lot", "location", "actor")[
            :30
        ],
        "can_write": user_has_perm(request.user, Perm.INVENTORY_WRITE),
        "today": timezone.localdate(),
        "adjust_form": forms.AdjustForm(stock_rows=stock),
        "move_form": forms.MoveForm(),
        "reorder_form": forms.ReorderForm(),
        **bound,
    }
    return render(request, "inventory/item.html", context, status=status)


@require_perm(Perm.INVENTORY_VIEW)
def item_detail(request, pk):
    return _item_page(request, get_object_or_404(Item, pk=pk))


@require_perm(Perm.INVENTORY_WRITE)
@require_POST
def item_adjust(request, pk):
    item = get_object_or_404(Item, pk=pk)
    form = forms.AdjustForm(request.POST, stock_rows=list(selectors.stock_of(item=item)))
    if form.is_valid():
        row = form.rows[form.cleaned_data["stock"]]
        try:
            services.stock_adjust(
                actor=request.user, lot=row.lot, location=row.location,
                quantity=form.cleaned_data["quantity"], reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )  # fmt: skip
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Stock adjusted.")
            return redirect("inventory:item", pk)
    return _item_page(request, item, status=400, adjust_form=form)


@require_perm(Perm.INVENTORY_WRITE)
@require_POST
def item_move(request, pk):
    item = get_object_or_404(Item, pk=pk)
    form = forms.MoveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["destination"].kind == "ward":
                services.stock_issue(
                    actor=request.user, item=item, source=data["source"],
                    ward=data["destination"], quantity=data["quantity"],
                )  # fmt: skip
            else:
                services.stock_transfer(actor=request.user, item=item, **data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Stock moved.")
            return redirect("inventory:item", pk)
    return _item_page(request, item, status=400, move_form=form)


@require_perm(Perm.INVENTORY_WRITE)
@require_POST
def item_reorder(request, pk):
    item = get_object_or_404(Item, pk=pk)
    form = forms.ReorderForm(request.POST)
    if form.is_valid():
        services.reorder_level_set(actor=request.user, item=item, **form.cleaned_data)
        messages.success(request, "Reorder level saved.")
        return redirect("inventory:item", pk)
    return _item_page(request, item, status=400, reorder_form=form)


@require_perm(Perm.INVENTORY_WRITE)
def receive(request):
    form = forms.ReceiveForm(request.POST or None, initial={"item": request.GET.get("item")})
    if request.method == "POST" and form.is_valid():
        try:
            move = services.stock_receive(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, f"Received {move.quantity} into {move.location}.")
            return redirect("inventory:item", move.item_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "inventory/form.html", {"form": form, "title": "Receive stock"}, status=status
    )


@require_perm(Perm.INVENTORY_WRITE)
def location_add(request):
    form = forms.LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.location_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Location added.")
            return redirect("inventory:home")
    return render(request, "inventory/form.html", {"form": form, "title": "Add a location"})


@require_perm(Perm.INVENTORY_VIEW)
def catalogue_export(request):
    response, writer = csv_download("catalogue.csv")
    writer.writerow(services.CATALOGUE_COLUMNS)
    for item in Item.objects.order_by("code").iterator():
        row = {c: getattr(item, c) for c in services.CATALOGUE_COLUMNS}
        row["is_active"] = "yes" if item.is_active else "no"
        writer.writerow(row.values())
    return response


@require_perm(Perm.INVENTORY_WRITE)
def catalogue_import(request):
    form = forms.CatalogueImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        reader = csv.DictReader(io.StringIO(form.cleaned_data["file"]))
        missing = {"code", "name"} - set(reader.fieldnames or [])
        if missing:
            form.add_error("file", f"Missing column(s): {', '.join(sorted(missing))}.")
        else:
            try:
                report = services.catalogue_import(actor=request.user, rows=list(reader))
            except (DomainError, csv.Error) as exc:
                form.add_error("file", getattr(exc, "message", str(exc)))
    status = 400 if request.method == "POST" and report is None else 200
    return render(
        request, "inventory/catalogue_import.html", {"form": form, "report": report}, status=status
    )


# --- Alerts --------------------------------------------------------------------------------------


@require_perm(Perm.INVENTORY_VIEW)
def alert_list(request):
    return render(
        request,
        "inventory/alerts.html",
        {
            "alerts": selectors.open_alerts()[:200],
            "low": selectors.low_stock()[:200],
            "expiring": selectors.expiring_lots()[:200],
            "can_write": user_has_perm(request.user, Perm.INVENTORY_WRITE),
        },
    )


@require_perm(Perm.INVENTORY_WRITE)
@require_POST
def alert_resolve(request, pk):
    services.alert_resolve(actor=request.user, alert=get_object_or_404(Alert, pk=pk))
    messages.success(request, "Alert closed.")
    return redirect("inventory:alerts")


# --- Dispensing ----------------------------------------------------------------------------------


@require_perm(Perm.DISPENSE)
def dispense_queue(request):
    rows = selectors.dispensing_queue()
    audit_record_patients(
        action="prescription.dispensing_queue_view",
        actor=request.user,
        patients=[r.prescription.patient_id for r in rows],
    )
    return render(request, "inventory/queue.html", {"rows": rows})


@require_perm(Perm.DISPENSE)
def dispense(request, pk):
    prescription = get_object_or_404(
        Prescription.objects.select_related("patient", "prescriber"), pk=pk
    )
    audit_record(
        action="prescription.view", actor=request.user, obj=prescription,
        patient=prescription.patient_id, details={"page": "dispense"},
    )  # fmt: skip
    item = (
        Item.objects.filter(code=prescription.item_code).first() if prescription.item_code else None
    )
    dispensed = services.dispensed_quantity(prescription.pk)
    remaining = None if prescription.quantity is None else prescription.quantity - dispensed
    form = forms.DispenseForm(request.POST or None, initial={"quantity": remaining or None})
    status = 200
    if request.method == "POST":
        status = 400
        if item is None:
            form.add_error(None, "This drug is not stocked: it cannot be dispensed here.")
        elif form.is_valid():
            try:
                done = services.stock_dispense(
                    actor=request.user, item=item, prescription=prescription,
                    **form.cleaned_data,
                )  # fmt: skip
            except DomainError as exc:
                _show_error(form, exc)
                status = exc.status if exc.status in (400, 409) else 400
            else:
                messages.success(request, f"Dispensed {done.quantity} {item.unit}(s) of {item}.")
                return redirect("inventory:dispense-queue")
    stock = list(selectors.stock_of(item=item)) if item else []
    context = {
        "prescription": prescription,
        "item": item,
        "dispensed": dispensed,
        "remaining": remaining,
        "stock": stock,
        "today": timezone.localdate(),
        "form": form,
        "history": prescription.dispenses.select_related("dispensed_by", "location"),
    }
    return render(request, "inventory/dispense.html", context, status=status)


# --- Suppliers and orders ------------------------------------------------------------------------


@require_perm(Perm.INVENTORY_VIEW)
def supplier_list(request):
    form = forms.SupplierForm()
    return render(
        request,
        "inventory/suppliers.html",
        {
            "suppliers": Supplier.objects.all(),
            "form": form,
            "can_write": user_has_perm(request.user, Perm.INVENTORY_WRITE),
        },
    )


@require_perm(Perm.INVENTORY_WRITE)
def supplier_add(request):
    form = forms.SupplierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.supplier_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, "Supplier added.")
            return redirect("inventory:suppliers")
    return render(request, "inventory/form.html", {"form": form, "title": "Add a supplier"})


@require_perm(Perm.INVENTORY_VIEW)
def order_list(request):
    status = request.GET.get("status") or ""
    orders = PurchaseOrder.objects.select_related("supplier", "location").order_by("-pk")
    if status in OrderStatus.values:
        orders = orders.filter(status=status)
    page = Paginator(orders, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "inventory/orders.html",
        {
            "page": page,
            "status": status,
            "statuses": OrderStatus.choices,
            "can_write": user_has_perm(request.user, Perm.INVENTORY_WRITE),
        },
    )


@require_perm(Perm.INVENTORY_WRITE)
def order_add(request):
    form = forms.OrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        order = services.purchase_order_create(
            actor=request.user, supplier=data["supplier"], location=data["location"],
            lines=[services.OrderLineIn(data["item"], data["quantity"], data["unit_cost"])],
            note=data["note"],
        )  # fmt: skip
        messages.success(request, f"Order {order.number} drafted.")
        return redirect("inventory:order", order.pk)
    return render(request, "inventory/form.html", {"form": form, "title": "Draft an order"})


def _order(pk) -> PurchaseOrder:
    return get_object_or_404(PurchaseOrder.objects.select_related("supplier", "location"), pk=pk)


@require_perm(Perm.INVENTORY_VIEW)
def order_detail(request, pk):
    order = _order(pk)
    return render(
        request,
        "inventory/order.html",
        {
            "order": order,
            "lines": order.lines.select_related("item"),
            "can_write": user_has_perm(request.user, Perm.INVENTORY_WRITE),
        },
    )


@require_perm(Perm.INVENTORY_WRITE)
@require_POST
def order_step(request, pk, step):
    steps = {
        "approve": services.purchase_order_approve,
        "send": services.purchase_order_send,
        "cancel": services.purchase_order_cancel,
    }
    if step not in steps:
        raise Http404
    try:
        order = steps[step](actor=request.user, order=_order(pk))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Order {order.number}: {order.get_status_display()}.")
    return redirect("inventory:order", pk)


@require_perm(Perm.INVENTORY_WRITE)
def order_receive(request, pk):
    order = _order(pk)
    lines = {line.pk: line for line in order.lines.select_related("item")}
    initial = [
        {"line": line.pk, "quantity": line.outstanding, "unit_cost": line.unit_cost}
        for line in lines.values()
        if line.outstanding
    ]
    formset = forms.ReceiptFormSet(request.POST or None, initial=initial)
    error = ""
    if request.method == "POST" and formset.is_valid():
        entries = [
            services.ReceiptLineIn(
                line=lines[f["line"]],
                batch_number=f["batch_number"],
                expiry_date=f.get("expiry_date"),
                quantity=f["quantity"],
                unit_cost=f.get("unit_cost"),
            )  # fmt: skip
            for f in formset.cleaned_data
            if f.get("quantity") and f.get("line") in lines
        ]
        try:
            order = services.purchase_order_receive(actor=request.user, order=order, lines=entries)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"Goods received: {order.get_status_display().lower()}.")
            return redirect("inventory:order", pk)
    rows = [
        (form, lines.get(form.initial.get("line") or _int(form["line"].value())))
        for form in formset
    ]
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "inventory/order_receive.html",
        {"order": order, "formset": formset, "rows": rows, "error": error},
        status=status,
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_perm(Perm.INVENTORY_VIEW)
def order_pdf(request, pk):
    from weasyprint import HTML

    order = _order(pk)
    html = render_to_string(
        "inventory/order_pdf.html", {"order": order, "lines": order.lines.select_related("item")}
    )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{order.number}.pdf"'
    return response


# --- Reports -------------------------------------------------------------------------------------


@require_perm(Perm.INVENTORY_VIEW)
def reports(request):
    today = timezone.localdate()
    form = forms.ReportPeriodForm(
        request.GET or None, initial={"start": today - timedelta(days=30), "end": today}
    )
    start, end = today - timedelta(days=30), today
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    consumption = selectors.consumption(start, end)
    export = request.GET.get("export")
    if export in ("stock", "movements", "consumption", "expiring"):
        return _csv(export, start, end, consumption)
    values = selectors.stock_value_by_location()
    return render(
        request,
        "inventory/reports.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "values": values,
            "consumption": consumption,
            "chart": charts.bar_chart([(r["item"], r["units"]) for r in consumption][:15]),
            "expiring": selectors.expiring_lots()[:100],
            "movement_count": selectors.movements_between(start, end).count(),
        },
    )


def _csv(kind: str, start, end, consumption) -> HttpResponse:
    response, writer = csv_download(f"{kind}-{start}-{end}.csv")
    if kind == "stock":
        writer.writerow(["location", "kind", "units", "value"])
        for r in selectors.stock_value_by_location():
            writer.writerow(
                [r["location__name"], r["location__kind"], r["units"], f"{r['value']:.2f}"]
            )
    elif kind == "movements":
        writer.writerow(["when", "kind", "reason", "item", "lot", "location", "quantity", "by"])
        for m in selectors.movements_between(start, end).iterator():
            writer.writerow([
                m.occurred_at.isoformat(), m.kind, m.reason, m.item.code, m.lot.batch_number,
                m.location.code, m.quantity, m.actor.email if m.actor else "",
            ])  # fmt: skip
    elif kind == "consumption":
        writer.writerow(["item", "name", "department", "units"])
        for r in consumption:
            writer.writerow([r["code"], r["item"], r["department"], r["units"]])
    else:
        writer.writerow(["item", "lot", "expiry", "location", "on_hand"])
        for s in selectors.expiring_lots():
            writer.writerow(
                [s.item.code, s.lot.batch_number, s.lot.expiry_date, s.location.code, s.on_hand]
            )
    return response
