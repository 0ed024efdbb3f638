from django.urls import path

from hms.inventory import api

urlpatterns = [
    path("items/", api.ItemsView.as_view(), name="api-inventory-items"),
    path("locations/", api.LocationsView.as_view(), name="api-inventory-locations"),
    path("receipts/", api.ReceiptsView.as_view(), name="api-inventory-receipts"),
    path("stock/", api.StockView.as_view(), name="api-inventory-stock"),
    path("dispenses/", api.DispensesView.as_view(), name="api-inventory-dispenses"),
    path("alerts/", api.AlertsView.as_view(), name="api-inventory-alerts"),
    path("purchase-orders/", api.OrdersView.as_view(), name="api-inventory-orders"),
    path(
        "purchase-orders/<str:pk>/receive/",
        api.OrderReceiveView.as_view(),
        name="api-inventory-order-receive",
    ),
]
