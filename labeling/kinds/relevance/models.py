"""The relevance kind's own table (labeling's, imported by labeling/models.py): what each ranker returned.

A ranker's results for a query are kept to their depth, so that the judgments can score every ranker (nDCG,
MRR, the unjudged share of its top 10: ranking.py) and a pool of several rankers decides what is judged.
"""

from django.db import models

from datasets.models import Dataset, Product, Query


class QueryResult(models.Model):
    """One ranked result: `product` at `rank` (1 = best) of `ranker`'s results for `query`."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+", db_index=False)
    query = models.ForeignKey(Query, on_delete=models.CASCADE, related_name="results", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_index=False)
    ranker = models.CharField(max_length=64, help_text="bm25, or the name a lead gave an imported ranking.")
    rank = models.PositiveIntegerField()
    score = models.FloatField(null=True, blank=True)

    class Meta:
        app_label = "labeling"
        constraints = [
            models.UniqueConstraint(fields=["query", "ranker", "rank"], name="query_result_unique_rank"),
            models.UniqueConstraint(fields=["query", "ranker", "product"], name="query_result_unique_product"),
            models.CheckConstraint(condition=models.Q(rank__gte=1), name="query_result_rank_positive"),
        ]
        indexes = [
            # A ranker's results in a dataset (replaced whole when it runs again); a product's, for its deletion.
            models.Index(fields=["dataset", "ranker"], name="query_result_ranker"),
            models.Index(fields=["product"], name="query_result_product"),
        ]

    def __str__(self) -> str:
        return f"{self.ranker} #{self.rank} for query {self.query_id}: product {self.product_id}"
