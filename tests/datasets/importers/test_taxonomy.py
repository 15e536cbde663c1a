import io
import json

import pytest

from datasets.importers import ImportFormatError, RowError, TaxonomyRow, parse_taxonomy, split_path


def parse(data: bytes, filename: str = "taxonomy.txt", **options) -> list:
    return list(parse_taxonomy(io.BytesIO(data), filename=filename, **options))


def rows(items: list) -> list[tuple[str, tuple[str, ...]]]:
    return [(item.code, item.path) for item in items if isinstance(item, TaxonomyRow)]


def errors(items: list) -> list[tuple[int, str]]:
    return [(item.line, item.reason) for item in items if isinstance(item, RowError)]


def test_google_format_with_ids():
    data = (
        b"# Google_Product_Taxonomy_Version: 2021-09-21\n1 - Animals & Pet Supplies\n"
        b"3237 - Animals & Pet Supplies > Live Animals\n"
    )
    assert parse(data) == [
        TaxonomyRow(2, "1", ("Animals & Pet Supplies",)),
        TaxonomyRow(3, "3237", ("Animals & Pet Supplies", "Live Animals")),
    ]


def test_google_format_without_ids_skips_blank_lines():
    items = parse(b"Electronics > Audio > Headphones\n\nElectronics\n")
    assert [(item.line, item.path) for item in items] == [
        (1, ("Electronics", "Audio", "Headphones")),
        (3, ("Electronics",)),
    ]


def test_google_format_is_detected_without_extension():
    assert rows(parse(b"1 - Animals\n2 - Animals > Pets\n", "")) == [("1", ("Animals",)), ("2", ("Animals", "Pets"))]


def test_implied_parents_are_not_required():
    assert rows(parse(b"A > B > C\n")) == [("", ("A", "B", "C"))]


def test_empty_segment_is_row_error():
    assert errors(parse(b"A >  > B\n")) == [(1, "empty path segment")]


def test_long_segment_is_row_error():
    assert errors(parse(b"A > " + b"x" * 256 + b"\n")) == [(1, "category name longer than 255 characters")]


def test_deep_path_is_row_error():
    path = " > ".join(f"L{n}" for n in range(11)).encode()
    assert errors(parse(path + b"\n")) == [(1, "path deeper than 10 levels")]


def test_duplicate_path_is_row_error():
    assert errors(parse(b"A > B\nA\nA > B\n")) == [(3, "duplicate path 'A > B' (first seen on line 1)")]


def test_duplicate_id_is_row_error():
    assert errors(parse(b"1 - A\n1 - B\n")) == [(2, "duplicate id '1' (first seen on line 1)")]


def test_broken_bytes_reject_only_their_line():
    items = parse("Électronique\n".encode() + b"Caf\xe9\n" + "Vêtements\n".encode())
    assert errors(items) == [(2, "broken encoding (bytes not valid utf-8)")]


def test_csv_with_id_and_path_columns():
    data = b"code,path\nE1,Electronics\nE2,Electronics > Audio\n"
    assert rows(parse(data, "tax.csv")) == [("E1", ("Electronics",)), ("E2", ("Electronics", "Audio"))]


def test_csv_with_category_column():
    assert rows(parse(b"id;category\n7;Home > Kitchen\n", "tax.csv")) == [("7", ("Home", "Kitchen"))]


def test_csv_without_header_reads_id_and_path():
    assert rows(parse(b"1,Electronics\n2,Electronics > Audio\n", "tax.csv")) == [
        ("1", ("Electronics",)),
        ("2", ("Electronics", "Audio")),
    ]


def test_csv_with_parent_ids_builds_paths_even_when_parent_comes_later():
    data = b"id,name,parent_id\n3,Headphones,2\n1,Electronics,\n2,Audio,1\n"
    assert rows(parse(data, "tax.csv")) == [
        ("3", ("Electronics", "Audio", "Headphones")),
        ("1", ("Electronics",)),
        ("2", ("Electronics", "Audio")),
    ]


def test_csv_unknown_parent_id_is_row_error():
    items = parse(b"id,name,parent_id\n1,Electronics,\n2,Audio,9\n3,Headphones,2\n", "tax.csv")
    assert errors(items) == [(3, "unknown parent_id '9'"), (4, "ancestor has unknown parent_id '9'")]


def test_csv_parent_cycle_is_row_error():
    items = parse(b"id,name,parent_id\n1,A,2\n2,B,1\n", "tax.csv")
    assert [line for line, _ in errors(items)] == [2, 3]


def test_csv_without_path_column_is_refused():
    with pytest.raises(ImportFormatError, match="No path column"):
        parse(b"id,parent_id,colour\n1,,red\n", "tax.csv")


def test_json_list_of_paths():
    assert rows(parse(b'["A", "A > B"]', "tax.json")) == [("", ("A",)), ("", ("A", "B"))]


def test_json_list_of_objects_with_path():
    data = json.dumps([{"id": 1, "path": "A > B"}, {"code": "c", "path": ["A", "C"]}]).encode()
    assert rows(parse(data, "tax.json")) == [("1", ("A", "B")), ("c", ("A", "C"))]


def test_json_nested_tree_from_one_root():
    tree = {
        "name": "Electronics",
        "id": "E",
        "children": [
            {"name": "Audio", "id": "A", "children": [{"name": "Headphones", "id": "H"}]},
            {"name": "Phones", "id": "P"},
        ],
    }
    items = parse(json.dumps(tree).encode(), "tax.json")
    assert [(item.line, item.code, item.path) for item in items] == [
        (1, "E", ("Electronics",)),
        (2, "A", ("Electronics", "Audio")),
        (3, "H", ("Electronics", "Audio", "Headphones")),
        (4, "P", ("Electronics", "Phones")),
    ]


def test_json_nested_tree_from_list_of_roots():
    data = json.dumps([{"name": "A", "children": [{"name": "B"}]}, {"name": "C"}]).encode()
    assert rows(parse(data, "tax.json")) == [("", ("A",)), ("", ("A", "B")), ("", ("C",))]


def test_json_parent_id_objects_build_paths():
    data = json.dumps([{"id": 2, "name": "B", "parent_id": 1}, {"id": 1, "name": "A"}]).encode()
    assert rows(parse(data, "tax.json")) == [("2", ("A", "B")), ("1", ("A",))]


def test_json_is_detected_without_extension():
    assert rows(parse(b'["A"]', "")) == [("", ("A",))]


def test_invalid_json_is_refused():
    with pytest.raises(ImportFormatError, match="not valid JSON"):
        parse(b'["A",', "tax.json")


def test_binary_taxonomy_is_refused():
    with pytest.raises(ImportFormatError, match="ZIP archive"):
        parse(b"PK\x03\x04\x14\x00", "tax.csv")


def test_empty_taxonomy_is_refused():
    with pytest.raises(ImportFormatError, match="empty"):
        parse(b"\n\n", "tax.txt")


def test_cp1252_taxonomy_is_decoded():
    assert rows(parse("Maison > Cuisine équipée\n".encode("cp1252"))) == [("", ("Maison", "Cuisine équipée"))]


@pytest.mark.parametrize(
    ("path", "levels"),
    [
        ("Electronics > Audio > Headphones", ["Electronics", "Audio", "Headphones"]),
        ("Electronics>Audio", ["Electronics", "Audio"]),
        ("Tools & <Hardware>", ["Tools & <Hardware>"]),
        ("Kids <3 Toys", ["Kids <3 Toys"]),
        ("Home > Tools & <Hardware> > Drills", ["Home", "Tools & <Hardware>", "Drills"]),
        ("<b>Shoes</b> > Boots", ["<b>Shoes</b>", "Boots"]),
    ],
)
def test_split_path_keeps_markup_inside_names(path, levels):
    assert split_path(path) == levels


def test_category_names_holding_html_are_imported_whole():
    data = b"Tools & <Hardware>\nTools & <Hardware> > Drills\nKids <3 Toys\n<script>alert(1)</script>\n"
    assert rows(parse(data)) == [
        ("", ("Tools & <Hardware>",)),
        ("", ("Tools & <Hardware>", "Drills")),
        ("", ("Kids <3 Toys",)),
        ("", ("<script>alert(1)</script>",)),
    ]


def test_csv_taxonomy_with_html_names():
    data = b'id,path\n1,Tools & <Hardware>\n2,"Tools & <Hardware> > Drills"\n'
    assert rows(parse(data, "taxonomy.csv")) == [
        ("1", ("Tools & <Hardware>",)),
        ("2", ("Tools & <Hardware>", "Drills")),
    ]


def test_json_taxonomy_nested_too_deep_is_refused():
    with pytest.raises(ImportFormatError, match="levels deep"):
        parse(b"[" * 10_000 + b"]" * 10_000, "taxonomy.json")
