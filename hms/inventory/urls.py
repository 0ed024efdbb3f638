from django.urls import path

from hms.inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.home, name="home"),
    path("items/new/", views.item_add, name="item-add"),
    path("catalogue.csv", views.catalogue_export, name="catalogue-export"),
    path("catalogue/import/", views.catalogue_import, name="catalogue-import"),
    path("items/<int:pk>/", views.item_detail, name="item"),
    path("items/<int:pk>/edit/", views.item_edit, name="item-edit"),
    path("items/<int:pk>/adjust/", views.item_adjust, name="item-adjust"),
    path("items/<int:pk>/move/", views.item_move, name="item-move"),
    path("items/<int:pk>/reorder/", views.item_reorder, name="item-reorder"),
    path("receive/", views.receive, name="receive"),
    path("locations/new/", views.location_add, name="location-add"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/resolve/", views.alert_resolve, name="alert-resolve"),
    path("dispensing/", views.dispense_queue, name="dispense-queue"),
    path("dispensing/<uuid:pk>/", views.dispense, name="dispense"),
    path("suppliers/", views.supplier_list, name="suppliers"),
    path("suppliers/new/", views.supplier_add, name="supplier-add"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_add, name="order-add"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/pdf/", views.order_pdf, name="order-pdf"),
    path("orders/<int:pk>/receive/", views.order_receive, name="order-receive"),
    path("orders/<int:pk>/<slug:step>/", views.order_step, name="order-step"),
    path("reports/", views.reports, name="reports"),
]
