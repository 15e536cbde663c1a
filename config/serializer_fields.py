"""Serializers that build their fields once per class: ModelSerializers that read their model once, output
serializers that share one set of fields."""

import copy
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.fields import Field, FileField, SerializerMethodField, SkipField
from rest_framework.relations import HyperlinkedRelatedField, ManyRelatedField, PKOnlyObject
from rest_framework.serializers import ListSerializer, Serializer


class ModelFieldsOnce:
    """Mixed into a ModelSerializer: its fields are built from the model once per class, then copied.

    DRF's `ModelSerializer.get_fields` introspects the model (field info, kwargs, relations) every time a serializer
    is made: on the annotator's next and submit that was a millisecond of a request's ten. The fields depend only on
    the class (its Meta and declared fields), so its first instance builds them and later ones get deep copies, as
    DRF gives every instance copies of the declared fields. Not for a serializer whose fields depend on its context.
    """

    def get_fields(self) -> dict[str, Field]:
        built = type(self).__dict__.get("_fields_built")
        if built is None:
            built = super().get_fields()
            type(self)._fields_built = built  # on this class only: a subclass builds its own
        return copy.deepcopy(built)


class SharedOutputFields:
    """Mixed into an output serializer: it writes an instance out with the fields of one shared instance of its
    class, built once, instead of building (deep-copying) its own fields every time it is made.

    The annotator's next and submit each made a serializer with some fifty fields (the product's nested): copying
    them was the largest share of the request's Python after the database. The loop below is DRF's
    `Serializer.to_representation`, except that a method field calls the method of the serializer at hand.
    The shared fields are bound to a serializer without context, so a field that reads the context (hyperlinks,
    files' absolute URLs) or a method field of a nested serializer is refused when the fields are first built.
    """

    def to_representation(self, instance: Any) -> dict[str, Any]:
        plan = type(self).__dict__.get("_shared_plan")
        if plan is None:
            plan = _output_plan(type(self)())
            type(self)._shared_plan = plan  # on this class only: a subclass builds its own
        represented = {}
        for name, field, method in plan:
            if method is not None:
                represented[name] = getattr(self, method)(instance)
                continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            present = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            represented[name] = None if present is None else field.to_representation(attribute)
        return represented


def _output_plan(serializer: Serializer) -> tuple[tuple[str, Field, str | None], ...]:
    """Each readable field of `serializer`: its name, the field, and the method a method field calls."""
    plan = []
    for field in serializer._readable_fields:
        if isinstance(field, SerializerMethodField):
            plan.append((field.field_name, field, field.method_name))
        else:
            _check_shareable(field)
            plan.append((field.field_name, field, None))
    return tuple(plan)


def _check_shareable(field: Field) -> None:
    if isinstance(field, HyperlinkedRelatedField | FileField) or (
        isinstance(field, ManyRelatedField) and isinstance(field.child_relation, HyperlinkedRelatedField)
    ):
        raise ImproperlyConfigured(f"{field.field_name}: a field that reads the context cannot be shared.")
    if isinstance(field, ListSerializer):
        field = field.child
    if isinstance(field, Serializer):
        for nested in field.fields.values():
            if isinstance(nested, SerializerMethodField):
                raise ImproperlyConfigured(f"{field.field_name}.{nested.field_name}: a nested method field.")
            _check_shareable(nested)
