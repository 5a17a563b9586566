from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def localized(obj) -> str:
    """A specialty's or visit reason's name in the current language (German is the default)."""
    if obj is None:
        return ""
    english = getattr(obj, "name_en", "")
    if (get_language() or "").startswith("en") and english:
        return english
    return getattr(obj, "name", str(obj))
