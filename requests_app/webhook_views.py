from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lockbox_site.errors import ApplicationError
from lockbox_site.web import client_ip, form_errors, raise_http
from tenants_app.roles import Cap, can

from . import services
from .events import SUBSCRIBABLE
from .models import OutboxMessage, Webhook

NEW_SECRET_KEY = "lockbox_new_webhook"


class WebhookForm(forms.Form):
    url = forms.URLField(label="Endpoint URL", max_length=500, assume_scheme="https")
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in SUBSCRIBABLE],
        initial=list(SUBSCRIBABLE),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The events this endpoint receives (all if none is ticked).",
    )


@login_required
def webhooks(request):
    user = request.user
    if not can(user, Cap.MANAGE_WEBHOOKS):
        raise PermissionDenied
    form = WebhookForm(request.POST if request.method == "POST" else None)
    status = 200
    # Shown once, on the page the registration redirects to. It waits in the session, which is
    # kept on the server (the cookie holds only the session's key), never in a cookie.
    created = request.session.pop(NEW_SECRET_KEY, None) if request.method == "GET" else None
    if request.method == "POST":
        if form.is_valid():
            try:
                data = {**form.cleaned_data, "events": form.cleaned_data["events"] or None}
                webhook = services.webhook_create(actor=user, client_ip=client_ip(request), **data)
            except ApplicationError as exc:
                raise_http(exc)
                form_errors(form, exc)
                status = exc.status_code
            else:
                # Post/redirect/get: a reload of the page cannot register the endpoint twice.
                request.session[NEW_SECRET_KEY] = {"url": webhook.url, "secret": webhook.secret}
                return redirect("webhooks")
        else:
            status = 400
    hooks = Webhook.objects.filter(tenant_id=user.tenant_id)
    deliveries = (
        OutboxMessage.objects.filter(webhook__tenant_id=user.tenant_id)
        .select_related("webhook")
        .order_by("-created_at")[:50]
    )
    return render(
        request,
        "requests_app/webhooks.html",
        {
            "nav": "webhooks",
            "form": form,
            "webhooks": hooks,
            "deliveries": deliveries,
            "created": created,
        },
        status=status,
    )


@login_required
@require_POST
def webhook_delete(request, pk):
    try:
        services.webhook_delete(actor=request.user, webhook_id=pk, client_ip=client_ip(request))
    except ApplicationError as exc:
        raise_http(exc)
        raise
    messages.success(request, "Webhook deleted.")
    return redirect("webhooks")
