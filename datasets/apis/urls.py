from django.urls import path

from datasets.apis import catalog, label_synonyms

urlpatterns = [
    path("datasets/<int:dataset_id>/labels/", catalog.LabelListApi.as_view(), name="api-label-list"),
    path(
        "datasets/<int:dataset_id>/labels/<int:label_id>/",
        label_synonyms.LabelDetailApi.as_view(),
        name="api-label-detail",
    ),
    path("datasets/<int:dataset_id>/products/", catalog.ProductListApi.as_view(), name="api-product-list"),
]
