"""Pure parsing of uploaded product and taxonomy files (no Django): the import service writes the rows.

files: opening and sniffing; lines: physical lines, every one accounted for; records: record streams
per format; values: per-value checks; mapping: column -> field; products and taxonomy: the validated
rows; pairs: product pairs for matching; queries and judgments: a relevance dataset's search queries and
grades; labelstudio and prodigy: labeled exports of other tools (annotated: what they share); prodigy_spans:
Prodigy's marked texts (ner_manual, spans.manual) for span labeling.
"""

from .annotated import AnnotatedRow
from .files import ImportFormatError, RowError, detect_format, open_text
from .judgments import JudgmentRow, parse_judgments
from .labelstudio import parse_labelstudio
from .lines import LineCount
from .mapping import PRODUCT_FIELDS, suggest_mapping
from .pairs import PairRow, PairSide, ProductRef, pair_key, parse_pairs
from .prodigy import parse_prodigy
from .prodigy_spans import ImportedSpan, SpanFile, SpanRow, parse_prodigy_spans
from .products import FIELD_LIMITS, ProductRow, parse_products, read_header
from .queries import QueryRow, parse_queries
from .taxonomy import TaxonomyRow, parse_taxonomy, split_path

__all__ = [
    "FIELD_LIMITS",
    "PRODUCT_FIELDS",
    "AnnotatedRow",
    "ImportFormatError",
    "ImportedSpan",
    "JudgmentRow",
    "LineCount",
    "PairRow",
    "PairSide",
    "ProductRef",
    "ProductRow",
    "QueryRow",
    "RowError",
    "SpanFile",
    "SpanRow",
    "TaxonomyRow",
    "detect_format",
    "open_text",
    "pair_key",
    "parse_judgments",
    "parse_labelstudio",
    "parse_pairs",
    "parse_prodigy",
    "parse_prodigy_spans",
    "parse_products",
    "parse_queries",
    "parse_taxonomy",
    "read_header",
    "split_path",
    "suggest_mapping",
]
