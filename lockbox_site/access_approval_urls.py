"""Google Cloud Access Approval API v1 (REST) at /v1/: exactly the client's paths, no trailing
slash, `:verb` inside the last segment; anything else under /v1/ is a JSON NOT_FOUND."""

from django.urls import re_path

from access_approval.settings_views import SettingsView
from access_approval.views import (
    ApprovalRequestActionView,
    ApprovalRequestListView,
    ApprovalRequestView,
    UnimplementedView,
    not_found_view,
)

PARENT = r"^(?P<kind>organizations|projects|folders)/(?P<tenant>[^/]+)"

urlpatterns = [
    re_path(PARENT + r"/approvalRequests$", ApprovalRequestListView.as_view()),
    re_path(PARENT + r"/approvalRequests/(?P<rid>[^/:]+)$", ApprovalRequestView.as_view()),
    re_path(
        PARENT + r"/approvalRequests/(?P<rid>[^/:]+):(?P<action>approve|dismiss|invalidate)$",
        ApprovalRequestActionView.as_view(),
    ),
    re_path(PARENT + r"/accessApprovalSettings$", SettingsView.as_view()),
    re_path(PARENT + r"/serviceAccount$", UnimplementedView.as_view()),
    re_path(r"", not_found_view),
]
