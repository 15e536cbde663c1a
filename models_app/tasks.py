from celery import shared_task

from models_app.services.experiments import experiment_run
from models_app.services.training import model_version_train


@shared_task(acks_late=True)
def train_model_task(version_id: int) -> str:
    # Redelivery after a killed worker finds the version still "running" and records it as interrupted.
    return model_version_train(version_id=version_id).status


@shared_task(acks_late=True)
def run_experiment_task(experiment_id: int) -> str:
    # Redelivery after a killed worker finds the experiment still "running" and records it as interrupted.
    return experiment_run(experiment_id=experiment_id).status
