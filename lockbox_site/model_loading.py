"""Rows made into model instances without Model.__init__ (issue 17).

Every request loads its user and tenant, and the hot paths their request, ticket, Cloud PCs and
decisions; Django builds each instance by calling the model with every value, which sets each
field through `setattr` (a descriptor call for each foreign key) and sends pre_init and
post_init: about 8 µs an instance here, a tenth of an operator action's client CPU for four.
Django's documentation names `from_db` as the place to customise loading; this one writes the
values into the instance's `__dict__`, which is where `__init__` puts them for these fields.

It falls back to Django's own `from_db` whenever that would not give the same instance: a
pre_init or post_init receiver anywhere, or a loaded field whose class attribute does more on
assignment than store the value (anything but Django's deferred-attribute descriptors).
tests/hotpaths/test_model_loading.py compares the instances with Django's for every model that
uses it, with all fields, deferred ones and related rows.
"""

from django.db import models
from django.db.models.base import ModelState
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

_ATTNAMES: dict = {}


def _attnames(model, field_names, count):
    """The attnames the values fill, in Django's order; None where __init__ must run."""
    key = (model, count, tuple(field_names) if count != len(model._meta.concrete_fields) else None)
    found = _ATTNAMES.get(key, False)
    if found is False:
        fields = model._meta.concrete_fields
        if key[2] is not None:  # as Model.from_db: the named fields, in the model's order
            fields = [field for field in fields if field.attname in field_names]
        names = [field.attname for field in fields]
        plain = all(_stores_plainly(model, name) for name in names)
        found = names if plain and len(names) == count else None
        _ATTNAMES[key] = found
    return found


def _stores_plainly(model, name) -> bool:
    for klass in model.__mro__:
        if name in klass.__dict__:
            attribute = klass.__dict__[name]
            return isinstance(attribute, DeferredAttribute) and (
                not hasattr(type(attribute), "__set__") or type(attribute).__set__ is _FK_SET
            )
    return False


_FK_SET = models.ForeignKey.descriptor_class.__set__


class LoadedPlainly(models.Model):
    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        names = (
            None
            if pre_init.receivers or post_init.receivers
            else _attnames(cls, field_names, len(values))
        )
        if names is None:
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        state = new._state = ModelState()
        state.adding, state.db = False, db
        new.__dict__.update(zip(names, values, strict=True))
        return new
