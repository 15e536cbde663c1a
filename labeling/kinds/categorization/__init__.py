from labeling.kinds.categorization.kind import CategorizationKind

KIND = CategorizationKind()
