from django.contrib import admin

from datasets.models import Dataset, Label, Membership, Product


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "task_type", "overlap", "created_by", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "dataset", "role"]
    list_filter = ["role", "dataset"]
    search_fields = ["user__username", "dataset__name"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["path", "code", "dataset", "depth"]
    list_filter = ["dataset"]
    search_fields = ["path", "code"]
    raw_id_fields = ["parent"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["external_id", "title", "brand", "price", "currency", "dataset"]
    list_filter = ["dataset"]
    search_fields = ["external_id", "title", "brand"]
    show_full_result_count = False
