"""Stored files follow their records: deleting an export (or its dataset) deletes the snapshot's file."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from workspace.models import Export


@receiver(post_delete, sender=Export)
def export_file_delete(sender: type[Export], instance: Export, **kwargs: Any) -> None:
    if instance.file:
        name, storage = instance.file.name, instance.file.storage
        # After commit: a rolled-back delete must not lose the file of a snapshot that still exists.
        transaction.on_commit(lambda: storage.delete(name))
