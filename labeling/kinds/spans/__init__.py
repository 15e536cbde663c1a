"""Attribute spans in product titles (issue 14): brand, color, size... marked on spaCy tokens.

The kind lands in parts: first its pure modules (tokens, pre-annotation from a product's own values, agreement),
then its tables, pages and queue. It registers in labeling.kinds once it can be labeled, not before.
"""
