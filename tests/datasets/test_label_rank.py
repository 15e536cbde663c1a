"""The pure ranking of labels for a query (no database)."""

from datasets.label_rank import LabelEntry, LabelIndex, label_rank


def rank(paths: list[str], query: str) -> list[str]:
    inner = {path.rsplit(" > ", 1)[0] for path in paths if " > " in path}
    entries = tuple(
        LabelEntry(pk=i, name=p.rsplit(" > ", 1)[-1], path=p, depth=p.count(" > "), leaf=p not in inner)
        for i, p in enumerate(paths)
    )
    return [paths[pk] for pk in label_rank(index=LabelIndex(entries=entries), query=query)]


def test_the_name_with_least_besides_the_query_comes_first():
    paths = ["Tools > Headlamps", "Lighting > Lamp Post Bases", "Lighting > Lamps"]
    assert rank(paths, "lamp") == ["Lighting > Lamps", "Lighting > Lamp Post Bases", "Tools > Headlamps"]


def test_a_typed_word_of_a_name_beats_the_same_letters_inside_other_words():
    paths = ["Vehicles > ATVs & UTVs", "Video > TV Mounts"]
    assert rank(paths, "tv")[0] == "Video > TV Mounts"


def test_an_empty_index_finds_nothing():
    assert rank([], "shoes") == []
