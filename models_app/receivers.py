"""models_app's listeners to the signals of the layers below it (which must not import models_app)."""


def trainings_due(sender: object, **kwargs: object) -> None:
    """After each sweep of a worker: request the automatic training runs that are due."""
    # Imported at the first sweep, not when Django starts: training pulls in scikit-learn (150 MB, 2 s),
    # which commands and web processes that never train should not pay for.
    from models_app.services.training import trainings_due_request

    trainings_due_request()
