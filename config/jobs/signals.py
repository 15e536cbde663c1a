"""What the worker's sweeper announces, for the apps above `config` to act on periodically."""

from django.dispatch import Signal

# Sent after each sweep (every JOB_SWEEP_SECONDS, in every worker): periodic checks that must stay off the
# request path listen here (models_app requests the automatic training runs that are due, labeling the conflict
# checks of matching datasets whose answers changed).
swept = Signal()
