import copy

import django_filters
from django import forms
from django.db.models import Q
from django.utils.choices import BaseChoiceIterator

from lockbox_site.filters import IdFilter, UTCIsoDateTimeFilter

from .labels import OPERATION_LABELS, RECORD_TYPE_LABELS
from .models import AuditRecord, Result


class AuditSearchForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError("The start is after the end: swap them or change one.")
        return cleaned


class _Pairs(tuple):
    """(value, label) string pairs. django-filter deep-copies every filter, choices and all, for
    every search; a deep copy of a tuple of strings is that same tuple, so this one returns
    itself without first walking its 40-odd pairs to find that out."""

    def __deepcopy__(self, memo):
        return self


class _FormChoices(BaseChoiceIterator):
    """A search form field's choices as django-filter's field lists them (its empty label
    first), taken once. Every form deep-copies its fields, and a choice field's copy walked its
    40-odd pairs three times (deep copy, widget copy, normalisation when the copy is set);
    these copy to themselves, and Django's normalisation leaves a BaseChoiceIterator as it is."""

    def __init__(self, choices):
        self.pairs = tuple(choices)

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self):
        return len(self.pairs)

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


class _FiltersOfOneSearch(dict):
    """The FilterSet's filters. django-filter deep-copies all of them for every search
    (FilterSet.__init__), only so that each search can give its copies its own parent and
    model; a deep copy walked some 200 objects per search. These filters hold nothing else a
    search changes (no querysets, fixed choices), so a search gets a shallow copy of each, and a
    filter with a method its own FilterMethod, bound to the copy as django-filter binds it."""

    def __deepcopy__(self, memo):
        copies = {}
        for name, filter_ in self.items():
            copied = copy.copy(filter_)
            if filter_.method is not None:
                copied.method = filter_.method  # a FilterMethod of the copy, not the original
            copies[name] = copied
        return copies


class _FieldsOfEveryForm(dict):
    """The search form's fields, shared by every form. Django deep-copies a form's fields for
    each form (Form.__init__), so that a form may change its own; this form never changes
    them (no per-request choices, attributes or widgets: the fields are fixed when the class
    is built, see AuditRecordFilter._form_class), and the nine copies were a tenth of a
    search's CPU. Each form still gets its own dict, so adding or removing a field stays
    local to that form. What is no longer local is a change to a field itself: a view that
    set a widget's attrs, a field's initial, choices or required for one request would change
    it for every later search, in every thread. Give such a form a copy of the field
    (form.fields[name] = copy.deepcopy(field)) before changing it."""

    def __deepcopy__(self, memo):
        return dict(self)


class AuditRecordFilter(django_filters.FilterSet):
    """The audit search of SPEC section 4, shared by the web page, the API and the export."""

    start = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    end = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    # distinct=False: django-filter's default (for filters across to-many joins) made every
    # search a SELECT DISTINCT over the page; these are columns of the record itself.
    record_type = django_filters.MultipleChoiceFilter(
        choices=_Pairs(RECORD_TYPE_LABELS), distinct=False
    )
    operation = django_filters.MultipleChoiceFilter(
        choices=_Pairs(OPERATION_LABELS), distinct=False
    )
    result = django_filters.ChoiceFilter(choices=Result.choices)
    # A prefix, any case: "APPROVER@" finds approver@contoso.example and approver2@...
    actor = django_filters.CharFilter(field_name="actor", lookup_expr="istartswith", max_length=200)
    object_id = django_filters.CharFilter(field_name="object_id", max_length=64)
    request = IdFilter(method="filter_request")
    q = django_filters.CharFilter(method="filter_text", max_length=200, label="Free text")

    class Meta:
        model = AuditRecord
        form = AuditSearchForm
        fields = [
            "start",
            "end",
            "record_type",
            "operation",
            "result",
            "actor",
            "object_id",
            "request",
            "q",
        ]

    @classmethod
    def _form_class(cls):
        """django-filter builds the form class anew for every search: nine filters' fields
        made, then a class made from them (get_form_class), about a third of a search's CPU in
        the API. Every filter here is fixed when the class is (no choices or querysets that
        depend on the request), so the class is built once, from copies of the filters given
        the model as each search's own copies are (the labels come from it)."""
        form_class = cls.__dict__.get("_cached_form_class")
        if form_class is None:
            filters = copy.deepcopy(cls.base_filters)
            for filter_ in filters.values():
                filter_.model = cls._meta.model
            fields = {name: filter_.field for name, filter_ in filters.items()}
            for field in fields.values():
                if isinstance(field, forms.ChoiceField):
                    # django-filter's setter would wrap them again: set them as they are.
                    field._choices = field.widget.choices = _FormChoices(field.choices)
            form_class = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
            form_class.base_fields = _FieldsOfEveryForm(form_class.base_fields)
            cls._cached_form_class = form_class
        return form_class

    @classmethod
    def _copied_per_search(cls):
        cls.base_filters = _FiltersOfOneSearch(cls.base_filters)

    def get_form_class(self):
        return self._form_class()

    def filter_queryset(self, queryset):
        return self.apply(queryset, self.form.cleaned_data)

    def apply(self, queryset, values):
        """Each filter applied with its value (django-filter's filter_queryset, which gets the
        form's values); the search's compiled page applies them with marker values."""
        for name, value in values.items():
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_request(self, queryset, name, value):
        # The request's own lifecycle records and everything done under it carry request_id.
        return queryset.filter(request_id=int(value))

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(details__icontains=value) | Q(actor__icontains=value))


AuditRecordFilter._copied_per_search()
