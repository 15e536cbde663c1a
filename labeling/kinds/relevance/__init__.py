"""Search relevance: graded query-product judgments (issue 13). Its parts land one at a time; the kind registers
in labeling/kinds/__init__.py once it can be labeled."""
