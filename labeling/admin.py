from django.contrib import admin

from labeling.models import Annotation, LabelEvent, Lease, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["pk", "product", "dataset", "annotation_count", "is_complete", "is_gold", "priority"]
    list_filter = ["dataset", "is_complete", "is_gold"]
    raw_id_fields = ["product", "gold_label"]
    show_full_result_count = False


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["task", "user", "status", "label", "flagged", "source", "active_seconds", "updated_at"]
    list_filter = ["dataset", "status", "flagged", "source"]
    raw_id_fields = ["task", "label"]


@admin.register(Lease)
class LeaseAdmin(admin.ModelAdmin):
    list_display = ["task", "user", "expires_at"]
    raw_id_fields = ["task"]


@admin.register(LabelEvent)
class LabelEventAdmin(admin.ModelAdmin):
    """History is append-only: the admin shows it and changes nothing."""

    list_display = ["created_at", "action", "task", "user", "old_label", "new_label", "source"]
    list_filter = ["dataset", "action", "source"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
