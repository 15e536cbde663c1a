import pytest

from config.errors import ApplicationError
from labeling.kinds.relevance.grades import BINARY, ESCI, GRADED, SCALES, scale_get
from labeling.kinds.relevance.ranking import ESCI_GAINS


@pytest.mark.parametrize(
    ("raw", "code"),
    [("E", "E"), ("exact", "E"), (" Exact ", "E"), (3, "E"), ("3.0", "E"), ("s", "S"), ("2", "S"), ("1", "C"),
     ("Complement", "C"), ("0", "I"), ("irrelevant", "I")],
)
def test_esci_reads_codes_names_and_the_3_to_0_values(raw, code):
    assert ESCI.parse(raw).code == code


def test_an_unknown_grade_says_what_the_scale_takes():
    with pytest.raises(ApplicationError, match=r"Unknown grade 'X' on the ESCI scale; use one of: E \(exact, 3\)"):
        ESCI.parse("X")
    with pytest.raises(ApplicationError, match="Unknown grade '2' on the binary scale"):
        BINARY.parse(2)
    with pytest.raises(ApplicationError, match="choose one of: esci, graded, binary"):
        scale_get("stars")


def test_every_scale_is_ordered_best_first_with_one_key_each():
    for scale in SCALES.values():
        values = [grade.value for grade in scale.grades]
        assert values == sorted(values, reverse=True)
        assert [grade.key for grade in scale.grades] == [str(i) for i in range(1, len(scale.grades) + 1)]
        assert len({grade.code for grade in scale.grades}) == len(scale.grades)
        gains = [grade.gain for grade in scale.grades]
        assert gains == sorted(gains, reverse=True) and gains[-1] == 0
    assert ESCI.gains == ESCI_GAINS
    assert GRADED.parse("perfect").gain == 7.0 and BINARY.parse("yes").code == "1"
