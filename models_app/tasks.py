from celery import shared_task

# The services are imported when a task runs: they bring scikit-learn (a second and over 100 MB), which a process
# that only enqueues these tasks (an import command, a web request) never needs.


@shared_task(acks_late=True)
def train_model_task(version_id: int) -> str:
    from models_app.services.training import model_version_train

    # Safe to redeliver: the claim lets one worker in; a version whose worker died is run again or failed.
    version = model_version_train(version_id=version_id)
    return version.status if version else "gone"


@shared_task(acks_late=True)
def run_experiment_task(experiment_id: int) -> str:
    from models_app.services.experiments import experiment_run

    # Safe to redeliver: the claim lets one worker in; an experiment whose worker died is run again.
    experiment = experiment_run(experiment_id=experiment_id)
    return experiment.status if experiment else "gone"


@shared_task(acks_late=True)
def catalog_matrix_refresh_task(dataset_id: int, config: dict | None = None) -> int:
    from models_app.services.catalog_features import catalog_matrix_refresh

    # Safe to redeliver: a refresh finds the rows already current; the current matrix serves meanwhile.
    return catalog_matrix_refresh(dataset_id=dataset_id, config=config)
