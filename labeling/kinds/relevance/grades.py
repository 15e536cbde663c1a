"""The grade scales a relevance dataset judges on (issue 13): ESCI by default, a 0-3 scale, or binary.

A scale's grades become the dataset's fixed labels; each has the key that gives it on the judge's page, a
value (its place in the order, for ordinal agreement and for exports that want numbers: TREC qrels), a gain
(what it is worth in nDCG) and the spellings files use for it ("E", "exact", "3").
"""

from __future__ import annotations

from dataclasses import dataclass

from config.errors import ApplicationError


@dataclass(frozen=True)
class Grade:
    code: str  # the label's code and what exports write in the ESCI layout ("E")
    name: str  # the label's name ("exact")
    key: str  # the key that gives it on the page ("1")
    value: int  # its rank, higher is better: qrels' grade, ordinal agreement
    gain: float  # its worth in nDCG
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class GradeScale:
    name: str
    title: str
    grades: tuple[Grade, ...]  # best first

    def parse(self, raw: object) -> Grade:
        """The grade a file or an API call names by its code, name, value or an alias; a clear error else."""
        wanted = str(raw).strip().casefold()
        if wanted.endswith(".0"):  # 3.0 from a spreadsheet
            wanted = wanted[:-2]
        for grade in self.grades:
            if wanted in (grade.code.casefold(), grade.name.casefold(), str(grade.value), *grade.aliases):
                return grade
        allowed = ", ".join(f"{grade.code} ({grade.name}, {grade.value})" for grade in self.grades)
        raise ApplicationError(f"Unknown grade {str(raw)!r} on the {self.title} scale; use one of: {allowed}.")

    @property
    def gains(self) -> dict[str, float]:
        return {grade.code: grade.gain for grade in self.grades}

    @property
    def values(self) -> dict[str, int]:
        return {grade.code: grade.value for grade in self.grades}


ESCI = GradeScale(
    name="esci",
    title="ESCI",
    grades=(
        # Amazon's Shopping Queries gains (1, 0.1, 0.01, 0); the values are the usual 3-2-1-0 mapping.
        Grade("E", "exact", "1", 3, 1.0, ("exact match",)),
        Grade("S", "substitute", "2", 2, 0.1, ("sub",)),
        Grade("C", "complement", "3", 1, 0.01, ("comp",)),
        Grade("I", "irrelevant", "4", 0, 0.0, ("irr", "not relevant")),
    ),
)
GRADED = GradeScale(
    name="graded",
    title="0-3",
    grades=(
        # Exponential gains (2^g - 1), as TREC's graded nDCG.
        Grade("3", "perfect", "1", 3, 7.0, ("excellent",)),
        Grade("2", "good", "2", 2, 3.0, ()),
        Grade("1", "fair", "3", 1, 1.0, ("partial",)),
        Grade("0", "bad", "4", 0, 0.0, ("irrelevant", "not relevant")),
    ),
)
BINARY = GradeScale(
    name="binary",
    title="binary",
    grades=(
        Grade("1", "relevant", "1", 1, 1.0, ("yes", "true", "r")),
        Grade("0", "not relevant", "2", 0, 0.0, ("no", "false", "irrelevant", "n")),
    ),
)
SCALES = {scale.name: scale for scale in (ESCI, GRADED, BINARY)}


def scale_get(name: str) -> GradeScale:
    try:
        return SCALES[name]
    except KeyError:
        raise ApplicationError(f"Unknown grade scale {name!r}; choose one of: {', '.join(SCALES)}.") from None
