from labeling.kinds.matching.kind import MatchingKind

KIND = MatchingKind()
