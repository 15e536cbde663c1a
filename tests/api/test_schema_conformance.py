"""Schemathesis over every operation of /api/schema/, as a lead and as an annotator.

Fails on a 5xx, an undocumented status code, a content type or body the schema does not describe.
Requests go in-process through Django's WSGI handler and each one is rolled back, so every example
starts from the same world and no job it queues ever reaches a broker (jobs are sent on commit).
"""

import os
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import strategies as st

from datasets.models import Role
from tests.api.conftest import World

# Fuzzed examples per operation and role; CI keeps the default, a deeper run raises it.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))

CONFIG = {
    "seed": int(os.environ.get("API_FUZZ_SEED", "20251")),
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "mode": "all"},
    "phases": {"stateful": {"enabled": False}},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
    },
}


schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", WSGIHandler(), config=schemathesis.Config.from_dict(CONFIG)
)
REAL_IDS: dict[str, list] = {}


def _mostly_real(name: str, generated: object) -> st.SearchStrategy:
    # Three examples in four name a real object of the world; the fourth keeps the id schemathesis made up.
    return st.integers(0, 3).flatmap(lambda n: st.sampled_from(REAL_IDS[name]) if n else st.just(generated))


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict | None) -> st.SearchStrategy:
    # Made-up ids find nothing, so the queries and bodies drawn with them would only ever meet a 404.
    given = path_parameters or {}
    choices = {name: _mostly_real(name, value) for name, value in given.items() if REAL_IDS.get(name)}
    return st.fixed_dictionaries(choices).map(lambda chosen: {**given, **chosen} if path_parameters else None)


@pytest.fixture
def in_process(world: World, db: None) -> Iterator[None]:
    REAL_IDS.update(world.ids)
    # As Django's test client does: a request must not close the connection whose transaction holds the world.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize("role", [Role.LEAD, Role.ANNOTATOR])
@schema.parametrize()
@hypothesis.settings(deadline=None, database=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_answers_as_its_schema_says(case, world: World, role: str) -> None:
    if case.meta is not None and case.meta.phase.name.value == "coverage":
        # The coverage phase builds its cases without the hooks: its well-typed ids name a real object, so
        # its bodies and queries reach the view instead of a 404 (fuzzing still tries ids that find nothing).
        for name, value in (case.path_parameters or {}).items():
            if REAL_IDS.get(name) and isinstance(value, int | str) and str(value).isdigit():
                case.path_parameters[name] = REAL_IDS[name][0]
    with transaction.atomic():
        response = case.call_and_validate(headers={"Authorization": f"Token {world.tokens[role]}"})
        transaction.set_rollback(True)
    # call_and_validate raised on any failed check; this says the one every operation must pass.
    assert response.status_code < 500
