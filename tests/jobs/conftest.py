import pytest

from config.celery import app


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, list]]:
    """What reached the broker: the real send is replaced by a recording (the broker is Celery's, not ours)."""
    messages: list[tuple[str, list]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kwargs: messages.append((name, args)))
    return messages
