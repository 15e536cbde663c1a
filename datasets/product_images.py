"""Which of a product's values are photos to show, and which of them may be rendered at all.

The rule, kept small on purpose: `Product.image_url` first, then every attribute whose key names an image
column: split into words at `_`, `-`, spaces, dots and camelCase humps, the key has one of `image`, `images`,
`img`, `imgs`, `photo`, `photos`, `picture`, `pictures` (`image_url_2`, `additional_image_link`, `images`,
`imageUrl`, `photo 3`). Its value is a URL, a list of URLs, or a string of URLs separated by commas, `|` or
whitespace (Google's `additional_image_link`). Only absolute http(s) URLs survive (never `javascript:` or
`data:`), each once, in that order, at most `MAX_IMAGES`. Pure: no Django, so importers and pages share it.
"""

import re
from collections.abc import Iterable, Mapping

MAX_IMAGES = 8
IMAGE_WORDS = frozenset({"image", "images", "img", "imgs", "photo", "photos", "picture", "pictures"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SEPARATORS = re.compile(r"[\s,|]+")
_HTTP = re.compile(r"https?://[^\s/?#]+", re.IGNORECASE)


def is_image_key(key: str) -> bool:
    return any(word.lower() in IMAGE_WORDS for word in _WORD.findall(str(key)))


def is_http_url(value: object) -> bool:
    """An absolute http(s) URL with a host: the only image sources a page renders."""
    return isinstance(value, str) and _HTTP.match(value.strip()) is not None


def _candidates(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield from _SEPARATORS.split(value.strip())
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str):
                yield item.strip()


def image_urls(*, image_url: str | None, attributes: Mapping[str, object] | None) -> list[str]:
    found = [image_url.strip()] if image_url and is_http_url(image_url) else []
    for key, value in (attributes or {}).items():
        if is_image_key(key):
            found += [url for url in _candidates(value) if is_http_url(url)]
    return list(dict.fromkeys(found))[:MAX_IMAGES]


def attributes_without_images(attributes: Mapping[str, object] | None) -> dict[str, object]:
    """The attributes a card lists as text: image columns are shown as photos instead."""
    return {key: value for key, value in (attributes or {}).items() if not is_image_key(key)}
