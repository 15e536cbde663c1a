"""Every kind brings the partials the pages include (their CSP check is tests/test_content_security_policy.py)."""

import pytest
from django.template.loader import get_template

from labeling.kinds import KINDS


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_has_its_page_partials(name):
    kind = KINDS[name]
    for template in (kind.item_template, kind.answer_template, kind.help_template):
        assert get_template(template)
