"""A model's probability as visual weight: a bar as wide as the probability (in steps of 5%, classes of
product_cards.css, since the page's policy keeps widths out of style attributes) and a band that mutes the
unlikely ones, so a 2% suggestion never looks like a 74% one."""

from django import template

register = template.Library()

WEAK_BELOW = 0.15
STRONG_FROM = 0.5


@register.inclusion_tag("labeling/_probability.html")
def probability_bar(probability: float | None, prefix: str = "") -> dict[str, object]:
    if probability is None:
        return {"shown": False}
    value = min(max(float(probability), 0.0), 1.0)
    return {
        "shown": True,
        "percent": round(value * 100),
        "step": round(value * 20) * 5,
        "band": probability_band(value),
        "prefix": prefix,
    }


@register.filter
def probability_band(probability: float | None) -> str:
    if probability is None:
        return ""
    return "prob-weak" if probability < WEAK_BELOW else "prob-strong" if probability >= STRONG_FROM else "prob-medium"
