from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language


def healthz(request):
    """Liveness for load balancers: the process answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_POST
def set_language(request):
    """Django's language switch (cookie), and a signed-in user keeps the choice for emails."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and language in {"de", "en"} and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return response
