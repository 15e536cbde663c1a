"""Every physical line of a product file is accounted for: broken records are reported with their line range and
the lines they swallowed are read again; no line is held whole when it is too long to be a record."""

import csv
import io
import random
import tracemalloc

from datasets.importers import LineCount, ProductRow, RowError, parse_products
from datasets.importers import lines as lines_module
from datasets.importers import records as records_module
from datasets.importers.lines import BLOCK_CHARS, MAX_LINE_CHARS
from datasets.importers.records import iter_csv


def parse(data: bytes, filename: str = "products.csv", **options) -> tuple[list, LineCount]:
    counts = LineCount()
    items = list(parse_products(io.BytesIO(data), filename=filename, counts=counts, **options))
    return items, counts


def ids(items: list) -> list[str]:
    return [item.external_id for item in items if isinstance(item, ProductRow)]


def errors(items: list) -> list[RowError]:
    return [item for item in items if isinstance(item, RowError)]


def accounted(items: list, counts: LineCount) -> bool:
    """Each record stands for one line; with the skipped lines they make every line read."""
    return len(items) + counts.skipped == counts.read


def unclosed_quote_file() -> bytes:
    """The trial's file: 48 lines, an unclosed quote on line 3."""
    lines = ["id,title", "1,Lamp", '2,"Desk with an unclosed quote'] + [f"{n},Chair {n}" for n in range(3, 48)]
    return ("\n".join(lines) + "\n").encode()


def test_an_unclosed_quote_is_one_error_covering_the_lines_to_the_end_of_the_file():
    items, _ = parse(unclosed_quote_file())
    (error,) = errors(items)
    assert (error.line, error.line_end) == (3, 48)
    assert "never closed" in error.reason and "lines 3-48" in error.reason


def test_the_lines_an_unclosed_quote_swallowed_are_read_again():
    items, _ = parse(unclosed_quote_file())
    assert ids(items) == ["1", *(str(n) for n in range(3, 48))]
    assert [item.line for item in items if isinstance(item, ProductRow)][1:3] == [4, 5]


def test_every_line_of_the_unclosed_quote_file_is_accounted_for():
    items, counts = parse(unclosed_quote_file())
    assert (counts.read, counts.skipped, len(items)) == (48, 1, 47)


def test_a_quote_closed_lines_later_by_another_row_does_not_swallow_those_rows():
    data = b'id,title,description\n1,Lamp,"no closing quote\n2,Desk,plain\n3,Chair,"quoted" text\n4,Sofa,\n'
    items, counts = parse(data)
    (error,) = errors(items)
    assert (error.line, error.line_end) == (2, 4)
    assert ids(items) == ["2", "3", "4"]
    assert accounted(items, counts)


def test_a_legitimate_multiline_description_imports_and_its_lines_count_as_continued():
    data = b'id,title,description\n1,Lamp,"Warm light.\n\nDimmable, 3 levels."\n2,Desk,\n'
    items, counts = parse(data)
    assert [(row.line, row.description) for row in items] == [(2, "Warm light.\n\nDimmable, 3 levels."), (5, "")]
    assert (counts.read, counts.skipped) == (5, 3)


def test_a_stray_quote_on_one_line_still_reads_as_before():
    (row,), counts = parse(b'id,title\n1,"Best" mug\n')
    assert (row.title, counts.read) == ("Best mug", 2)


def test_a_quoted_field_over_the_line_limit_is_rejected_and_its_lines_read_again(monkeypatch):
    monkeypatch.setattr(records_module, "MAX_RECORD_LINES", 5)
    body = "\n".join(f"line {n}" for n in range(10))
    data = f'id,title,description\n1,Lamp,"{body}"\n2,Desk,\n'.encode()
    items, counts = parse(data)
    first = errors(items)[0]
    assert (first.line, first.line_end) == (2, 11) and "more than 5 lines" in first.reason
    assert "2" in ids(items) and accounted(items, counts) and counts.read == 12


def test_a_quote_left_open_in_a_big_file_stops_at_the_line_limit_and_every_row_lands():
    rows = [f"{n},Chair number {n} in oak" for n in range(3, 6000)]
    data = ("id,title\n1,Lamp\n2,\"Desk\n" + "\n".join(rows) + "\n").encode()
    assert len(data) > 2 * BLOCK_CHARS
    items, counts = parse(data)
    (error,) = errors(items)
    assert error.line == 3 and records_module.MAX_RECORD_LINES < error.line_end - error.line < 6000
    assert ids(items) == ["1", *(str(n) for n in range(3, 6000))]
    assert (counts.read, counts.skipped) == (6000, 1)


def test_a_record_over_the_character_limit_is_rejected_with_its_range():
    piece = "x" * (MAX_LINE_CHARS // 3)
    data = f'id,title,description\n1,Lamp,"{piece}\n{piece}\n{piece}\n{piece}"\n2,Desk,\n'.encode()
    items, counts = parse(data)
    first = errors(items)[0]
    assert first.line == 2 and first.line_end >= 4
    assert ids(items) == ["2"] and accounted(items, counts) and counts.read == 6


def test_a_50_mb_line_is_rejected_alone_and_the_next_row_lands():
    data = b"id,title,description\n1,Lamp," + b"x" * 50_000_000 + b"\n2,Desk,\n3,Chair,\n"
    items, counts = parse(data)
    assert [(item.line, item.reason) for item in errors(items)] == [
        (2, f"line longer than {MAX_LINE_CHARS:,} characters")
    ]
    assert ids(items) == ["2", "3"] and (counts.read, counts.skipped) == (4, 1)


def test_a_50_mb_line_is_never_held_whole():
    stream = io.BytesIO(b"id,title\n1," + b"x" * 50_000_000 + b"\n2,Desk\n")
    tracemalloc.start()
    try:
        list(parse_products(stream, filename="p.csv"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_LINE_CHARS


def test_an_over_long_line_inside_a_quoted_field_ends_that_record():
    data = b'id,title,description\n1,Lamp,"starts here\n' + b"x" * (MAX_LINE_CHARS + 10) + b'\nends"\n2,Desk,\n'
    items, counts = parse(data)
    first, second = errors(items)[:2]
    assert (first.line, first.line_end) == (2, 3)
    assert (second.line, second.reason) == (3, f"line longer than {MAX_LINE_CHARS:,} characters")
    assert "2" in ids(items) and accounted(items, counts) and counts.read == 5


def test_windows_and_old_mac_line_endings_number_lines_alike():
    for newline in ("\r\n", "\r"):
        data = newline.join(["id,title,description", '1,Lamp,"a' + newline + 'b"', "2,Desk,", ""]).encode()
        items, counts = parse(data)
        assert ([row.line for row in items], counts.read) == ([2, 4], 4), repr(newline)


def test_records_across_read_blocks_match_the_csv_module():
    rng = random.Random(3)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=rng.choice(["\n", "\r\n"]))
    writer.writerow(["id", "title", "description"])
    for n in range(3000):
        description = "\n".join("word " * rng.randint(0, 30) for _ in range(rng.choice([1, 1, 1, 2, 4])))
        writer.writerow([n, f'Lamp "{n}", {rng.random()}', description])
    text = buffer.getvalue()
    assert len(text) > 4 * BLOCK_CHARS
    reference = csv.reader(io.StringIO(text, newline=""))
    expected, start = [], 1
    for row in reference:
        expected.append((start, row))
        start = reference.line_num + 1
    counts = LineCount()
    assert list(iter_csv(io.StringIO(text, newline=""), ",", counts)) == expected
    assert counts.read == text.count(writer.dialect.lineterminator)


def test_trailing_blank_lines_are_counted():
    items, counts = parse(b"id,title\n1,Lamp\n\n\n")
    assert (len(items), counts.read, counts.skipped) == (1, 4, 3)


def test_a_huge_jsonl_line_is_rejected_alone():
    data = b'{"id": 1, "title": "' + b"x" * (MAX_LINE_CHARS + 5) + b'"}\n\n{"id": 2, "title": "Desk"}\n'
    items, counts = parse(data, "feed.jsonl")
    assert [(item.line, item.reason) for item in errors(items)] == [
        (1, f"line longer than {MAX_LINE_CHARS:,} characters")
    ]
    assert ids(items) == ["2"] and (counts.read, counts.skipped) == (3, 1)


def test_a_huge_json_array_item_is_rejected_and_the_next_one_lands():
    data = b'[{"id": 1, "title": "Lamp", "blob": "' + b"x" * (MAX_LINE_CHARS + 5) + b'"}, {"id": 2, "title": "Desk"}]'
    items, counts = parse(data, "feed.json")
    assert [(item.line, item.reason) for item in errors(items)] == [
        (1, f"longer than {MAX_LINE_CHARS:,} characters")
    ]
    assert ids(items) == ["2"] and (counts.read, counts.skipped) == (2, 0)


def test_json_array_items_are_counted_up_to_a_syntax_error():
    items, counts = parse(b'[{"id": 1, "title": "Lamp"}, {"id": 2 "title": "Desk"}]', "feed.json")
    assert counts.read == len(items) == 2


PIECES = ['"', '""', ",", "ab", " ", "\n", "\r\n", "\r", 'x"y', '"q"', "\n\n", "é", "1", "z" * 50]


def test_any_mangled_csv_accounts_for_each_physical_line_once(monkeypatch):
    # Tiny blocks and limits, so CRLFs split between reads, over-long lines and runaway quotes all occur.
    monkeypatch.setattr(lines_module, "BLOCK_CHARS", 64)
    monkeypatch.setattr(lines_module, "MAX_LINE_CHARS", 30)
    monkeypatch.setattr(records_module, "MAX_RECORD_LINES", 7)
    monkeypatch.setattr(records_module, "MAX_RECORD_CHARS", 100)
    for seed in range(400):
        rng = random.Random(seed)
        text = "id,title,description\n" + "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 80)))
        items, counts = parse(text.encode())
        starts = [item.line for item in items]
        assert counts.read == len(io.StringIO(text, newline="").readlines()), seed
        assert accounted(items, counts) and starts == sorted(set(starts)), seed
