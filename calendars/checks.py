from django.core.checks import Error, register

from .crypto import keys_problem


@register()
def calendar_keys(app_configs, **kwargs):
    problem = keys_problem()
    if problem:
        return [Error(problem, id="calendars.E001")]
    return []
