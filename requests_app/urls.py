from django.urls import path

from . import views

app_name = "requests"
urlpatterns = [
    path("support/lockbox-requests/", views.customer_requests, name="list"),
    path("provider/my-requests/", views.my_requests, name="mine"),
    path("provider/pending-internal/", views.internal_queue, name="internal_queue"),
    path("provider/all-requests/", views.all_requests, name="all"),
    path("provider/request-access/", views.request_create, name="create"),
    path("requests/<int:pk>/", views.request_detail, name="detail"),
    path("requests/<int:pk>/evidence/", views.request_evidence, name="evidence"),
    path("requests/<int:pk>/state/", views.request_state, name="state"),
    path("requests/<int:pk>/decide/", views.request_decide, name="decide"),
    path("requests/<int:pk>/cancel/", views.request_cancel, name="cancel"),
    path("requests/<int:pk>/revoke/", views.request_revoke, name="revoke"),
    path("requests/<int:pk>/request-info/", views.request_ask, name="request_info"),
    path("requests/<int:pk>/answer/", views.request_answer, name="answer"),
    path("requests/<int:pk>/extend/", views.request_extend, name="extend"),
    path("requests/<int:pk>/emergency-approve/", views.request_emergency, name="emergency"),
    path("requests/<int:pk>/review/", views.request_review, name="review"),
]

ticket_patterns = (
    [
        path("", views.ticket_list, name="list"),
        path("<int:pk>/", views.ticket_detail, name="detail"),
        path("<int:pk>/close/", views.ticket_close, name="close"),
    ],
    "tickets",
)

cloud_pc_patterns = (
    [
        path("<int:pk>/", views.cloud_pc_detail, name="detail"),
        path("<int:pk>/restart/", views.cloud_pc_restart, name="restart"),
    ],
    "cloud_pcs",
)
