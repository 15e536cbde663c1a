import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from datasets.models import Dataset, Label, Product
from labeling.models import Task
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def test_load_demo_creates_users_memberships_taxonomy_and_products_once():
    call_command("load_demo", products=200, stdout=StringIO())
    call_command("load_demo", products=200, stdout=StringIO())
    dataset = Dataset.objects.get(name="Demo catalog")
    roles = dict(dataset.memberships.values_list("user__username", "role"))
    assert roles == {"lead": "lead", "annotator": "annotator", "annotator2": "annotator"}
    assert get_user_model().objects.get(username="admin").is_superuser
    assert (Product.objects.filter(dataset=dataset).count(), Task.objects.filter(dataset=dataset).count()) == (200, 200)
    assert Label.objects.filter(dataset=dataset).count() > 50
    assert "category" not in Product.objects.filter(dataset=dataset).first().attributes


def test_import_commands_run_inline_and_report(tmp_path):
    dataset = DatasetFactory(name="cli")
    taxonomy = tmp_path / "taxonomy.txt"
    taxonomy.write_text("1 - Shoes\n2 - Shoes > Boots\n")
    products = tmp_path / "products.csv"
    products.write_text("sku;Product Name;kind\nS1;Hiking boot;Boots\nS2;;Boots\n")
    call_command("import_taxonomy", str(taxonomy), dataset="cli", stdout=StringIO())
    out = StringIO()
    call_command("import_products", str(products), dataset=str(dataset.pk), label_column="kind", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (summary["created"], summary["rejected"], summary["labels"]) == (1, 1, 1)


def test_import_products_refuses_a_binary_file_with_a_clear_error(tmp_path):
    DatasetFactory(name="cli")
    binary = tmp_path / "products.csv"
    binary.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(CommandError, match="ZIP"):
        call_command("import_products", str(binary), dataset="cli", stdout=StringIO())
