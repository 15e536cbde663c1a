"""models_app's listeners to labeling's signals (labeling announces, as it must not import models_app)."""

import logging

from config.errors import ServiceUnavailableError
from datasets.models import Dataset

logger = logging.getLogger(__name__)


def training_check(sender: object, *, dataset: Dataset, **kwargs: object) -> None:
    """After answers: request a training run if enough new labels arrived."""
    # Imported at the first answer, not when Django starts: training pulls in scikit-learn (150 MB, 2 s),
    # which commands and processes that never see an answer should not pay for.
    from models_app.services.training import training_maybe_trigger

    try:
        training_maybe_trigger(dataset=dataset)
    except ServiceUnavailableError:
        # The answer is saved; the run was withdrawn and the next answer asks again.
        logger.warning("automatic training of %s not requested: the broker is unreachable", dataset.pk)
