from datasets.templatetags.products import sanitize_html


def test_scripts_styles_and_their_content_are_removed():
    cleaned = sanitize_html("<p>Great</p><script>alert(1)</script><style>p{}</style>")
    assert cleaned == "<p>Great</p>"


def test_event_handlers_are_removed():
    assert "onerror" not in sanitize_html('<img src=x onerror="alert(1)"><b onclick="x()">Bold</b>')


def test_javascript_links_lose_their_url():
    cleaned = sanitize_html('<a href="javascript:alert(1)">click</a>')
    assert "javascript" not in cleaned and "click" in cleaned


def test_formatting_and_safe_links_are_kept():
    cleaned = sanitize_html('<ul><li><b>Size</b>: XL</li></ul><a href="https://shop.example/p/1">shop</a>')
    assert "<li><b>Size</b>: XL</li>" in cleaned
    assert 'href="https://shop.example/p/1"' in cleaned


def test_missing_description_renders_empty():
    assert sanitize_html(None) == ""
