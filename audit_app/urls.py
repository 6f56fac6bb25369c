from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.search, name="search"),
    path("export/", views.export, name="export"),
    path("records/<int:pk>/", views.record_detail, name="record"),
    path("retention-policies/", views.policies, name="policies"),
    path("retention-policies/new/", views.policy_create, name="policy_new"),
    path("retention-policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("retention-policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
]
