"""Read-only serializers whose field objects are built once per class (issue 17).

DRF builds a serializer's fields again for every instance it renders: a ModelSerializer
introspects its model and deep-copies every declared field, which cost an approval's response
more CPU than the whole transition's SQL. A read-only serializer's fields hold no state between
calls, so `BuiltOnce` builds them once per class and renders with them; what differs per
instance is only the instance and the context, which SerializerMethodFields reach through the
serializer rendering now. `serializer.fields` (what drf-spectacular documents) is unchanged.
"""

from rest_framework.fields import SerializerMethodField, SkipField
from rest_framework.relations import PKOnlyObject


class BuiltOnce:
    """Mix into a read-only Serializer (first in its bases) that renders with shared fields.

    Its SerializerMethodFields are called on the serializer rendering, so they may read its
    context; nested serializers (BuiltOnce too, or not) are rendered without a context.
    """

    @classmethod
    def _shared_fields(cls) -> list:
        fields = cls.__dict__.get("_built_fields")
        if fields is None:
            fields = list(cls()._readable_fields)
            cls._built_fields = fields
        return fields

    def to_representation(self, instance):
        out = {}
        for field in self._shared_fields():
            if isinstance(field, SerializerMethodField):
                out[field.field_name] = getattr(self, field.method_name)(instance)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            # As DRF's Serializer.to_representation: a missing relation renders as None.
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            out[field.field_name] = None if check is None else field.to_representation(attribute)
        return out
