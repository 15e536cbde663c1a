"""What labeling announces to the apps above it, which it must not import (datasets -> labeling -> models_app)."""

from django.dispatch import Signal

# Sent once the transaction that saved an answer has committed, with `dataset`: listeners see the answer.
answers_submitted = Signal()
