from django import forms

from .labels import OPERATION_LABELS, RECORD_TYPE_LABELS
from .models import RetentionPolicy


class RetentionPolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    record_types = forms.MultipleChoiceField(
        choices=RECORD_TYPE_LABELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None selected means all record types.",
    )
    operations = forms.MultipleChoiceField(
        choices=OPERATION_LABELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None selected means all operations.",
    )
    duration = forms.ChoiceField(choices=RetentionPolicy.Duration.choices)
    priority = forms.IntegerField(min_value=1, max_value=10000, help_text="1–10000; lower wins.")
