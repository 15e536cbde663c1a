"""Product HTML comes from the wild: only a small set of formatting tags survives, never scripts or handlers."""

import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

from datasets.product_images import attributes_without_images, image_urls

register = template.Library()

ALLOWED_TAGS = {
    "p",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ul",
    "ol",
    "li",
    "span",
    "div",
    "h3",
    "h4",
    "h5",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "a",
    "small",
    "sup",
    "sub",
}


@register.filter
def sanitize_html(value: str | None) -> SafeString:
    # nh3 drops script/style with their content, on* attributes and javascript: URLs.
    cleaned = nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)


@register.filter
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key, "")


@register.filter
def product_images(product: object) -> list[str]:
    """The product's photos by the rule of `datasets.product_images`: http(s) URLs only."""
    return image_urls(image_url=getattr(product, "image_url", None), attributes=getattr(product, "attributes", None))


@register.filter
def text_attributes(attributes: dict | None) -> dict:
    return attributes_without_images(attributes)
