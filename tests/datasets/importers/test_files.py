import codecs
import io
import random

import pytest

from datasets.importers import ImportFormatError, detect_format, open_text, read_header, suggest_mapping


def test_detect_format_plain_text_is_csv():
    assert detect_format(b"id,title\n1,Mug\n", "products.csv") == "csv"


def test_detect_format_array_is_json():
    assert detect_format(b'  [{"id": 1}]', "") == "json"


def test_detect_format_one_object_per_line_is_jsonl():
    assert detect_format(b'{"id": 1}\n{"id": 2}\n', "") == "jsonl"


def test_detect_format_jsonl_content_wins_over_json_extension():
    assert detect_format(b'{"id": 1}\n{"id": 2}\n', "feed.json") == "jsonl"


def test_detect_format_pretty_printed_object_is_json():
    assert detect_format(b'{\n  "products": []\n}\n', "feed.json") == "json"


def test_detect_format_skips_utf8_bom():
    assert detect_format(codecs.BOM_UTF8 + b'[{"id": 1}]') == "json"


def test_detect_format_accepts_utf16_text_with_bom():
    assert detect_format("id,title\n1,Mug\n".encode("utf-16")) == "csv"


def test_detect_format_refuses_json_extension_without_json():
    with pytest.raises(ImportFormatError, match="extension but does not contain JSON"):
        detect_format(b"id,title\n1,Mug\n", "feed.json")


def test_detect_format_refuses_empty_file():
    with pytest.raises(ImportFormatError, match="empty"):
        detect_format(b"", "products.csv")


def test_detect_format_refuses_whitespace_and_bom_only():
    with pytest.raises(ImportFormatError, match="empty"):
        detect_format(codecs.BOM_UTF8 + b"  \r\n\n", "products.csv")


def test_detect_format_names_png():
    with pytest.raises(ImportFormatError, match="looks like a PNG image, not CSV, JSON or JSONL"):
        detect_format(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "products.csv")


def test_detect_format_names_zip_and_xlsx():
    with pytest.raises(ImportFormatError) as caught:
        detect_format(b"PK\x03\x04\x14\x00\x06\x00", "products.xlsx")
    assert str(caught.value).startswith(
        "This file looks like a ZIP archive (or an .xlsx workbook), not CSV, JSON or JSONL."
    )


def test_detect_format_names_pdf():
    with pytest.raises(ImportFormatError, match="PDF document"):
        detect_format(b"%PDF-1.7\n", "products.csv")


def test_detect_format_names_gzip():
    with pytest.raises(ImportFormatError, match="gzip"):
        detect_format(b"\x1f\x8b\x08\x00", "products.csv.gz")


def test_detect_format_refuses_nul_bytes():
    with pytest.raises(ImportFormatError, match="binary data"):
        detect_format(b"id,title\n1,M\x00ug\n", "products.csv")


def test_open_text_strips_utf8_bom():
    text, encoding = open_text(io.BytesIO(codecs.BOM_UTF8 + "id,title\n1,Café\n".encode()))
    assert (encoding, text.read()) == ("utf-8-sig", "id,title\n1,Café\n")


def test_open_text_decodes_utf16_with_bom():
    text, encoding = open_text(io.BytesIO("id,title\n1,Café\n".encode("utf-16")))
    assert (encoding, text.read()) == ("utf-16", "id,title\n1,Café\n")


def test_open_text_detects_cp1252():
    text, encoding = open_text(io.BytesIO("id,title\n1,Café crème\n".encode("cp1252")))
    assert (encoding, text.read()) == ("cp1252", "id,title\n1,Café crème\n")


def test_open_text_keeps_utf8_when_multibyte_char_is_cut_at_sample_end():
    data = b"a" * (1024 * 1024 - 1) + "é".encode()  # the 1 MiB sample ends inside "é"
    _, encoding = open_text(io.BytesIO(data))
    assert encoding == "utf-8"


def test_open_text_keeps_utf8_when_one_line_has_bad_bytes():
    data = "id,title\n1,Crème\n2,Größe\n".encode() + b"3,Caf\xe9\n"
    text, encoding = open_text(io.BytesIO(data))
    assert (encoding, text.read().splitlines()[-1]) == ("utf-8", "3,Caf\udce9")


def test_open_text_reads_from_the_start_whatever_the_position():
    stream = io.BytesIO(b"id,title\n")
    stream.seek(5)
    text, _ = open_text(stream)
    assert text.read() == "id,title\n"


def test_closing_text_stream_leaves_binary_stream_open():
    stream = io.BytesIO(b"id,title\n")
    text, _ = open_text(stream)
    text.close()
    assert not stream.closed


def test_read_header_for_csv():
    stream = io.BytesIO(b"SKU; Name ;Price\nA1;Mug;3,50\nA2;Cup;2\n")
    header = read_header(stream, "products.csv", sample_rows=1)
    assert header == {
        "format": "csv",
        "encoding": "utf-8",
        "delimiter": ";",
        "columns": ["SKU", "Name", "Price"],
        "sample": [{"SKU": "A1", "Name": "Mug", "Price": "3,50"}],
        "suggested_mapping": {"external_id": "SKU", "title": "Name", "price": "Price"},
    }


def test_read_header_rewinds_stream():
    stream = io.BytesIO(b"id,title\n1,Mug\n")
    read_header(stream, "products.csv")
    assert stream.tell() == 0 and not stream.closed


def test_read_header_json_columns_are_union_of_sample_keys():
    stream = io.BytesIO(b'[{"id": 1, "title": "Mug"}, {"id": 2, "color": "red"}, {"id": 3, "late": 1}]')
    header = read_header(stream, "feed.json", sample_rows=2)
    assert (header["format"], header["delimiter"], header["columns"]) == ("json", None, ["id", "title", "color"])


def test_read_header_jsonl_sample_keeps_nested_values():
    stream = io.BytesIO(b'{"id": "A1", "title": "Mug", "tags": ["a", "b"]}\n')
    header = read_header(stream, "feed.jsonl")
    assert header["sample"] == [{"id": "A1", "title": "Mug", "tags": ["a", "b"]}]


def test_read_header_refuses_binary():
    with pytest.raises(ImportFormatError, match="PNG"):
        read_header(io.BytesIO(b"\x89PNG\r\n\x1a\n"), "products.csv")


def test_suggest_mapping_uses_synonyms_ignoring_case_spaces_and_dashes():
    columns = [" Product ID", "PRODUCT-TITLE", "Manufacturer", "sale price", "Image Link"]
    assert suggest_mapping(columns) == {
        "external_id": " Product ID",
        "title": "PRODUCT-TITLE",
        "brand": "Manufacturer",
        "price": "sale price",
        "image_url": "Image Link",
    }


def test_suggest_mapping_prefers_exact_field_name_over_synonym():
    assert suggest_mapping(["name", "title", "id"]) == {"external_id": "id", "title": "title"}


def test_suggest_mapping_uses_each_column_once():
    assert suggest_mapping(["link"]) == {"url": "link"}


def test_suggest_mapping_understands_camel_case():
    assert suggest_mapping(["productId", "imageURL", "name"]) == {
        "external_id": "productId",
        "title": "name",
        "image_url": "imageURL",
    }


def test_suggest_mapping_leaves_unknown_columns_out():
    assert suggest_mapping(["Merchant ID", "Cluster Label"]) == {}


def random_bytes_without_nul(size: int = 4096) -> bytes:
    return bytes(byte for byte in random.Random(9).randbytes(size) if byte)


@pytest.mark.parametrize("filename", ["products.csv", "feed.json", "upload"])
def test_binary_without_nul_bytes_is_refused_in_plain_words(filename):
    with pytest.raises(ImportFormatError) as caught:
        detect_format(random_bytes_without_nul(), filename)
    assert str(caught.value) == "This file contains binary data (control characters), not CSV, JSON or JSONL."


def test_text_with_a_few_control_characters_is_still_text():
    data = b"id,title\n" + b"".join(b"%d,Mug\x0b%d\n" % (n, n) for n in range(50)) + b"\x1a"
    assert detect_format(data, "products.csv") == "csv"


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 10_000,
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000,
        b'[{"id": 1, "a": ' + b"[" * 100 + b"]" * 100 + b"}]",
    ],
)
def test_json_nested_too_deep_is_refused_up_front(data):
    with pytest.raises(ImportFormatError, match="more than 64 levels deep"):
        detect_format(data, "feed.json")


def test_the_mapping_preview_of_too_deep_json_is_refused_not_crashed():
    with pytest.raises(ImportFormatError, match="levels deep"):
        read_header(io.BytesIO(b"[" * 10_000 + b"]" * 10_000), "feed.json")


def test_brackets_inside_json_strings_do_not_count_as_nesting():
    assert detect_format(b'[{"id": 1, "title": "' + b"[" * 500 + b'"}]', "feed.json") == "json"


def test_moderate_nesting_is_accepted():
    assert detect_format(b'[{"id": 1, "a": ' + b"[" * 20 + b"]" * 20 + b"}]", "feed.json") == "json"
