from labeling.kinds.spans.kind import SpansKind

KIND = SpansKind()
