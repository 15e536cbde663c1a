"""models_app's listeners to labeling's signals (labeling announces, as it must not import models_app)."""

import logging

from config.errors import ServiceUnavailableError
from datasets.models import Dataset
from models_app.services.training import training_maybe_trigger

logger = logging.getLogger(__name__)


def training_check(sender: object, *, dataset: Dataset, **kwargs: object) -> None:
    """After answers: request a training run if enough new labels arrived."""
    try:
        training_maybe_trigger(dataset=dataset)
    except ServiceUnavailableError:
        # The answer is saved; the run was withdrawn and the next answer asks again.
        logger.warning("automatic training of %s not requested: the broker is unreachable", dataset.pk)
