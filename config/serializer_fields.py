"""ModelSerializers that read their model once per class."""

import copy

from rest_framework.fields import Field


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
