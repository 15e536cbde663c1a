from django import forms

from datasets.models import Dataset, ImportKind, Role
from datasets.services.datasets import EDITABLE_FIELDS


class DatasetForm(forms.ModelForm):
    class Meta:
        model = Dataset
        fields = [field for field in EDITABLE_FIELDS if field != "model_config"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, initial=ImportKind.PRODUCTS)
    file = forms.FileField()
    create_labels = forms.BooleanField(
        required=False,
        label="Create missing labels",
        help_text="Label Studio and Prodigy: add labels the taxonomy lacks instead of refusing the file.",
    )


class MappingForm(forms.Form):
    """One choice per product field, filled from the file's columns."""

    FIELDS = ("external_id", "title", "description", "brand", "price", "currency", "image_url", "url")

    def __init__(self, *args, columns: list[str], suggested: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "(none: keep in attributes)")] + [(c, c) for c in columns]
        for field in self.FIELDS:
            self.fields[field] = forms.ChoiceField(
                choices=choices, required=field in ("external_id", "title"), initial=suggested.get(field, "")
            )
        self.fields["label_column"] = forms.ChoiceField(
            choices=[("", "(no pre-labeled column)")] + [(c, c) for c in columns],
            required=False,
            help_text="A column whose values are taxonomy paths, codes or leaf names, imported as existing labels.",
        )
        self.fields["label_source"] = forms.CharField(
            max_length=100, required=False, initial="import", help_text="Names where these labels came from."
        )

    def options(self) -> dict:
        data = self.cleaned_data
        mapping = {field: data[field] for field in self.FIELDS if data.get(field)}
        options = {"mapping": mapping}
        if data.get("label_column"):
            options["label_column"] = data["label_column"]
            options["label_source"] = data.get("label_source") or "import"
        return options
