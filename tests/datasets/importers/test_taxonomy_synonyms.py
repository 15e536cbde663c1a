"""A taxonomy file may carry each category's synonyms: a CSV `synonyms` column ("a | b" or "a; b") or a JSON list."""

import io
import json

from datasets.importers import RowError, TaxonomyRow, parse_taxonomy


def parse(data: bytes, filename: str) -> list:
    return list(parse_taxonomy(io.BytesIO(data), filename=filename))


def test_a_csv_synonyms_column_is_split_stripped_and_deduplicated():
    data = b'id,path,synonyms\n1,Shoes,\n2,Shoes > Sneakers,"Trainers | kicks; trainers"\n'
    assert parse(data, "t.csv") == [
        TaxonomyRow(2, "1", ("Shoes",)),
        TaxonomyRow(3, "2", ("Shoes", "Sneakers"), ("Trainers", "kicks")),
    ]


def test_a_csv_of_parents_carries_synonyms_too():
    data = b"id,name,parent_id,synonyms\n1,Shoes,,footwear\n2,Sneakers,1,trainers\n"
    assert [row.synonyms for row in parse(data, "t.csv")] == [("footwear",), ("trainers",)]


def test_a_json_tree_carries_synonyms_as_a_list():
    tree = [{"name": "Shoes", "children": [{"name": "Sneakers", "synonyms": ["trainers", " kicks "]}]}]
    rows = parse(json.dumps(tree).encode(), "t.json")
    assert [(row.path, row.synonyms) for row in rows] == [
        (("Shoes",), ()),
        (("Shoes", "Sneakers"), ("trainers", "kicks")),
    ]


def test_an_overlong_synonym_is_a_row_error():
    data = b"path,synonyms\nShoes," + b"x" * 256 + b"\n"
    [row] = parse(data, "t.csv")
    assert isinstance(row, RowError) and "synonym longer than 255" in row.reason
