import factory
from django.contrib.auth import get_user_model

from datasets.models import Dataset, Label, Membership, Product, Role
from labeling.models import Task
from labeling.queue import random_key


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"Dataset {n}")
    random_fraction = 0.0


class MatchingDatasetFactory(DatasetFactory):
    """A matching dataset with its two labels, as dataset creation makes them: "1" match and "0" no match."""

    class Meta:
        skip_postgeneration_save = True

    task_type = "matching"

    @factory.post_generation
    def labels(obj, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            for code, name in (("1", "match"), ("0", "no match")):
                LabelFactory(dataset=obj, code=code, name=name, path=name)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    dataset = factory.SubFactory(DatasetFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ANNOTATOR


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    path = factory.LazyAttribute(lambda o: o.name)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    dataset = factory.SubFactory(DatasetFactory)
    external_id = factory.Sequence(lambda n: f"P{n:06d}")
    title = factory.Sequence(lambda n: f"Product number {n}")


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    dataset = factory.SubFactory(DatasetFactory)
    product = factory.SubFactory(ProductFactory, dataset=factory.SelfAttribute("..dataset"))
    random_key = factory.LazyAttribute(lambda o: random_key(seed=o.dataset.seed, external_id=o.product.external_id))


def member(dataset: Dataset, username: str, role: str = Role.ANNOTATOR):
    """A user with a role in the dataset."""
    user = UserFactory(username=username)
    MembershipFactory(dataset=dataset, user=user, role=role)
    return user


def pair_task(dataset: Dataset, left: Product, right: Product, **fields: object) -> Task:
    """A matching task: its two products in id order, `swapped` when the left one has the higher id."""
    low, high = sorted((left.pk, right.pk))
    return Task.objects.create(
        dataset=dataset,
        product_id=low,
        other_product_id=high,
        swapped=left.pk > right.pk,
        random_key=random_key(seed=dataset.seed, external_id=f"pair:{low}:{high}"),
        **fields,
    )
