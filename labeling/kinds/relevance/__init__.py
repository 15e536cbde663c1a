"""Search relevance: graded query-product judgments (issue 13)."""

from labeling.kinds.relevance.kind import RelevanceKind

KIND = RelevanceKind()
