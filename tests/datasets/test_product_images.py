"""Which of a product's values are shown as photos: image_url, then image columns; http(s) URLs only."""

from datasets.product_images import attributes_without_images, image_urls, is_image_key


def test_image_url_comes_first_then_the_image_columns_in_order():
    attributes = {"image_url_2": "https://cdn.example/2.jpg", "color": "red", "images": ["https://cdn.example/3.jpg"]}
    assert image_urls(image_url="https://cdn.example/1.jpg", attributes=attributes) == [
        "https://cdn.example/1.jpg",
        "https://cdn.example/2.jpg",
        "https://cdn.example/3.jpg",
    ]


def test_image_keys_are_recognised_by_their_words():
    for key in ("image_url_2", "additional_image_link", "images", "imageUrl", "Photo 3", "img", "picture-url"):
        assert is_image_key(key), key
    for key in ("imaginary", "brand", "color", "page_url", "pictogram"):
        assert not is_image_key(key), key


def test_a_string_of_several_urls_is_split_at_commas_bars_and_spaces():
    attributes = {"additional_image_link": "https://a.example/1.jpg,https://a.example/2.jpg | https://a.example/3.jpg"}
    assert image_urls(image_url=None, attributes=attributes) == [
        "https://a.example/1.jpg",
        "https://a.example/2.jpg",
        "https://a.example/3.jpg",
    ]


def test_only_http_urls_survive():
    attributes = {
        "image_2": "javascript:alert(1)",
        "image_3": "data:image/png;base64,AAAA",
        "image_4": "//cdn.example/relative.jpg",
        "image_5": "ftp://cdn.example/x.jpg",
        "images": ["JaVaScRiPt:alert(1)", 42, "HTTP://cdn.example/ok.jpg"],
    }
    assert image_urls(image_url="javascript:alert(1)", attributes=attributes) == ["HTTP://cdn.example/ok.jpg"]


def test_a_url_is_shown_once_and_at_most_eight():
    urls = [f"https://cdn.example/{n}.jpg" for n in range(12)]
    shown = image_urls(image_url=urls[0], attributes={"images": urls})
    assert shown == urls[:8]


def test_the_text_attributes_leave_out_the_image_columns():
    assert attributes_without_images({"image_url_2": "https://x.example/a.jpg", "color": "red"}) == {"color": "red"}
