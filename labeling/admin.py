from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest

from labeling.models import Annotation, LabelEvent, Lease, Task, TaskItem


class TaskItemInline(admin.TabularInline):
    """A multi-item task's products in their roles (a matching pair's left and right)."""

    model = TaskItem
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["pk", "items", "dataset", "annotation_count", "is_complete", "is_gold", "priority"]
    list_filter = ["dataset", "is_complete", "is_gold"]
    list_select_related = ["product", "dataset"]
    raw_id_fields = ["product", "gold_label"]
    inlines = [TaskItemInline]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        # A page of the list names each pair's products: one query for the page, not two per row.
        items = Prefetch("items", queryset=TaskItem.objects.select_related("product").order_by("role"))
        return super().get_queryset(request).prefetch_related(items)

    @admin.display(description="Product or items")
    def items(self, task: Task) -> str:
        if task.product_id is not None:
            return str(task.product)
        return " ↔ ".join(f"{item.role}: {item.product}" for item in task.items.all())


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
