from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from datasets.models import Dataset, Role
from datasets.services.datasets import EDITABLE_FIELDS
from labeling.kinds import KINDS
from labeling.kinds.matching.clustering import CLUSTER_FORMATS
from labeling.kinds.matching.clustering import LABELED as CLUSTER_LABELED
from labeling.kinds.matching.clustering import PREDICTED as CLUSTER_PREDICTED
from labeling.kinds.relevance.grades import SCALES
from labeling.resolve import LabelPolicy
from workspace.models import ExportFormat, ImportKind
from workspace.services.export_params import DEFAULTS as EXPORT_DEFAULTS


class DatasetForm(forms.ModelForm):
    class Meta:
        model = Dataset
        fields = [field for field in EDITABLE_FIELDS if field != "model_config"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class DatasetCreateForm(DatasetForm):
    """The settings, and the task kind: chosen once, at creation, from the kinds the registry knows."""

    task_type = forms.ChoiceField(
        choices=[(kind.name, kind.title) for kind in KINDS.values()], label="Task kind", initial="categorization"
    )
    grade_scale = forms.ChoiceField(
        choices=[("", "—"), *((scale.name, scale.title) for scale in SCALES.values())],
        required=False,
        label="Grade scale",
        help_text="Search relevance only: ESCI (exact, substitute, complement, irrelevant) unless you choose.",
    )
    span_types = forms.CharField(
        required=False,
        label="Span types",
        help_text="Attribute spans only: up to 9 types, comma separated, on keys 1-9 in that order (default: "
        "BRAND, MODEL, COLOR, SIZE, CAPACITY, MATERIAL, QUANTITY, GENDER).",
    )
    span_description = forms.BooleanField(
        required=False,
        label="Mark the description too",
        help_text="Attribute spans only: the text to mark is the title and the description below it.",
    )
    field_order = ["name", "task_type", "grade_scale", "span_types", "span_description"]

    def clean_span_types(self) -> list[str] | None:
        # Blank is the kind's default; the kind checks the names (workspace.services.datasets).
        text = self.cleaned_data["span_types"].strip()
        return [name.strip() for name in text.split(",")] if text else None


class MemberForm(forms.Form):
    usernames = forms.CharField(
        label="Usernames or emails",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ana\nbo@example.com, chen"}),
        help_text="One a line or separated by commas; existing accounts only (an invite link creates new ones).",
    )
    role = forms.ChoiceField(choices=Role.choices)


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


class SignupForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices, initial=ImportKind.PRODUCTS)
    file = forms.FileField()
    create_labels = forms.BooleanField(
        required=False,
        label="Create missing labels",
        help_text="Label Studio and Prodigy: add labels the taxonomy lacks instead of refusing the file.",
    )

    def __init__(self, *args, kinds: list[str], **kwargs) -> None:
        """`kinds`: the import kinds the dataset's task kind takes."""
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(value, label) for value, label in ImportKind.choices if value in kinds]
        if ImportKind.PAIRS in kinds:
            self.fields["kind"].initial = ImportKind.PAIRS  # what a matching dataset's tasks come from
        if ImportKind.LABELSTUDIO not in kinds and ImportKind.PRODIGY not in kinds:
            del self.fields["create_labels"]


class MappingForm(forms.Form):
    """One choice per product field, filled from the file's columns."""

    FIELDS = ("external_id", "title", "description", "brand", "price", "currency", "image_url", "url")

    def __init__(self, *args, columns: list[str], suggested: dict[str, str], labels: bool = True, **kwargs) -> None:
        """`labels`: whether the file may bring labels (a kind with a task per product)."""
        super().__init__(*args, **kwargs)
        choices = [("", "(none: keep in attributes)")] + [(c, c) for c in columns]
        for field in self.FIELDS:
            self.fields[field] = forms.ChoiceField(
                choices=choices, required=field in ("external_id", "title"), initial=suggested.get(field, "")
            )
        if not labels:
            return
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


class ExportForm(forms.Form):
    """A snapshot's parameters; the export service checks their values and its message lands on the form.

    `formats` are the ones the dataset's task kind offers: the others are not choices at all; without
    `suggestions` (a kind with no models yet) there is no suggestions box either, and without `predictions` no
    predicted policy.
    """

    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.JSONL)
    policy = forms.ChoiceField(choices=LabelPolicy.choices, initial=LabelPolicy.FINAL, label="Label policy")
    min_agreement = forms.FloatField(
        required=False,
        initial=EXPORT_DEFAULTS["min_agreement"],
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text="Majority: the share of votes the top label needs (0 to 1).",
    )
    min_votes = forms.IntegerField(
        required=False, initial=EXPORT_DEFAULTS["min_votes"], help_text="Majority: the votes the top label needs."
    )
    min_confidence = forms.FloatField(
        required=False,
        initial=EXPORT_DEFAULTS["min_confidence"],
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text="Predicted: leave out the products the model predicts with a lower probability (0 up to 1).",
    )
    include_flagged = forms.BooleanField(required=False, label="Include flagged items")
    include_suggestions = forms.BooleanField(required=False, label="Include the model's suggestions")
    split = forms.CharField(
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "0.8,0.1,0.1"}),
        help_text="Train, dev and test fractions; empty for no split column.",
    )
    seed = forms.IntegerField(required=False, initial=EXPORT_DEFAULTS["seed"], help_text="Seeds the split.")
    cluster_matches = forms.ChoiceField(
        required=False,
        choices=[(CLUSTER_LABELED, "Labeled matches only"), (CLUSTER_PREDICTED, "Labeled and predicted matches")],
        initial=CLUSTER_LABELED,
        label="Clusters from",
        help_text="Product clusters formats: with predicted matches, clusters merge while the active matcher's "
        "average match probability over the pairs between them reaches its threshold.",
    )

    def __init__(
        self, *args: Any, formats: Sequence[str], suggestions: bool = True, predictions: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(value, label) for value, label in ExportFormat.choices if value in formats]
        if not suggestions:
            del self.fields["include_suggestions"]
        if not predictions:
            self.fields["policy"].choices = [
                (value, label) for value, label in LabelPolicy.choices if value != LabelPolicy.PREDICTED
            ]
            del self.fields["min_confidence"]
        if not set(formats) & set(CLUSTER_FORMATS):
            del self.fields["cluster_matches"]

    def options(self) -> dict:
        """The service's options; an empty field keeps its default."""
        data = self.cleaned_data
        options = {key: data.get(key) for key in ("min_agreement", "min_votes", "seed", "min_confidence")}
        options |= {key: bool(data.get(key)) for key in ("include_flagged", "include_suggestions")}
        options["split"] = data.get("split", "").strip() or None
        if data.get("format") in CLUSTER_FORMATS:
            options["cluster_matches"] = data.get("cluster_matches") or None
        return options
