from django.contrib import admin

from labeling.models import Annotation, LabelEvent, Lease, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["pk", "items", "dataset", "annotation_count", "is_complete", "is_gold", "priority"]
    list_filter = ["dataset", "is_complete", "is_gold"]
    # A page of the list names each pair's products: one query for the page, not two per row.
    list_select_related = ["product", "other_product", "dataset"]
    raw_id_fields = ["product", "other_product", "gold_label"]
    show_full_result_count = False

    @admin.display(description="Product or pair")
    def items(self, task: Task) -> str:
        if not task.is_pair:
            return str(task.product)
        left, right = task.sides()
        return f"left: {left} ↔ right: {right}"


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
