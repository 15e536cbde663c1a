from django.urls import path

from datasets.apis import catalog

urlpatterns = [
    path("datasets/<int:dataset_id>/labels/", catalog.LabelListApi.as_view(), name="api-label-list"),
    path("datasets/<int:dataset_id>/products/", catalog.ProductListApi.as_view(), name="api-product-list"),
]
