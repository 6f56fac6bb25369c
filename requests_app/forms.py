from django import forms
from django.conf import settings

from .models import AccessRequest


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("deny", "Deny")])
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    duration_minutes = forms.IntegerField(
        label="Shorten access to (minutes)",
        required=False,
        min_value=settings.LOCKBOX_MIN_ACCESS_MINUTES,
        max_value=settings.LOCKBOX_MAX_ACCESS_MINUTES,
    )


class QuestionForm(forms.Form):
    question = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class AnswerForm(forms.Form):
    answer = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ExtendForm(forms.Form):
    reason = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    duration_minutes = forms.IntegerField(
        min_value=settings.LOCKBOX_MIN_ACCESS_MINUTES,
        max_value=settings.LOCKBOX_MAX_ACCESS_MINUTES,
    )


class EmergencyForm(forms.Form):
    comment = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("accepted", "Accept"), ("disputed", "Dispute")])
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TicketForm(forms.Form):
    tenant = forms.ChoiceField(label="Customer tenant")
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, max_length=10000, widget=forms.Textarea)

    def __init__(self, *args, tenants=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = [("", "Choose a tenant")] + [
            (t.slug, t.name) for t in tenants
        ]


class AccessRequestForm(forms.Form):
    cloud_pcs = forms.MultipleChoiceField(label="Cloud PCs", widget=forms.CheckboxSelectMultiple)
    reason_type = forms.ChoiceField(
        label="Reason type",
        choices=AccessRequest.ReasonType.choices,
        initial=AccessRequest.ReasonType.CUSTOMER_INITIATED_SUPPORT,
        required=False,  # left out: customer-initiated support, as in the API
    )
    reason = forms.CharField(max_length=4000, widget=forms.Textarea)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        min_value=settings.LOCKBOX_MIN_ACCESS_MINUTES,
        max_value=settings.LOCKBOX_MAX_ACCESS_MINUTES,
        initial=settings.LOCKBOX_DEFAULT_ACCESS_MINUTES,
    )
    starts_at = forms.DateTimeField(
        label="Start (UTC, optional)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to start at the approval; at most 7 days ahead.",
    )

    def __init__(self, *args, cloud_pcs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cloud_pcs"].choices = [
            (str(pc.pk), f"{pc.name} ({pc.region})") for pc in cloud_pcs
        ]


STATUS_FILTERS = [("", "All")] + list(AccessRequest.Status.choices)
CUSTOMER_STATUS_FILTERS = [
    (value, label)
    for value, label in STATUS_FILTERS
    if value != AccessRequest.Status.PENDING_INTERNAL
]
