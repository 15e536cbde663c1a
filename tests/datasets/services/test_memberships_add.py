import pytest

from config.errors import ApplicationError
from datasets.models import Membership, Role
from datasets.services.datasets import member_names_parse, memberships_add
from tests.factories import DatasetFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def roles(dataset) -> dict[str, str]:
    return dict(Membership.objects.filter(dataset=dataset).values_list("user__username", "role"))


def test_member_names_parse_takes_lines_commas_and_semicolons_without_repeats():
    assert member_names_parse(" ana\nbo@x.org, chen;\n\nana ,dee\r\n") == ["ana", "bo@x.org", "chen", "dee"]


def test_memberships_add_adds_usernames_and_emails_with_one_role():
    dataset = DatasetFactory()
    UserFactory(username="ana")
    UserFactory(username="bo", email="Bo@Example.org")
    added = memberships_add(dataset=dataset, names=["ana", "bo@example.org"], role=Role.ANNOTATOR)
    assert sorted(m.user.username for m in added) == ["ana", "bo"]
    assert roles(dataset) == {"ana": "annotator", "bo": "annotator"}


def test_memberships_add_changes_the_role_of_members_already_there():
    dataset = DatasetFactory()
    member(dataset, "ana")
    member(dataset, "boss", role=Role.LEAD)
    memberships_add(dataset=dataset, names=["ana"], role=Role.LEAD)
    assert roles(dataset) == {"ana": "lead", "boss": "lead"}


def test_memberships_add_refuses_the_whole_list_naming_each_account_it_cannot_add():
    dataset = DatasetFactory()
    UserFactory(username="ana")
    UserFactory(username="root", is_superuser=True)
    UserFactory(username="gone", is_active=False)
    with pytest.raises(ApplicationError) as refused:
        memberships_add(dataset=dataset, names=["ana", "nobody", "root", "gone"], role=Role.ANNOTATOR)
    assert refused.value.extra == {"refused": ["nobody", "root", "gone"]}
    assert "nobody, root, gone" in refused.value.message
    assert roles(dataset) == {}


def test_memberships_add_refuses_an_email_two_accounts_share():
    dataset = DatasetFactory()
    UserFactory(username="a1", email="team@x.org")
    UserFactory(username="a2", email="team@x.org")
    with pytest.raises(ApplicationError):
        memberships_add(dataset=dataset, names=["team@x.org"], role=Role.ANNOTATOR)


def test_memberships_add_keeps_a_lead():
    dataset = DatasetFactory()
    member(dataset, "boss", role=Role.LEAD)
    with pytest.raises(ApplicationError, match="at least one lead"):
        memberships_add(dataset=dataset, names=["boss"], role=Role.ANNOTATOR)
    assert roles(dataset) == {"boss": "lead"}
