"""An APIClient that speaks HTTPS, as production insists (SECURE_SSL_REDIRECT)."""

from rest_framework.test import APIClient


class HttpsApiClient(APIClient):
    def generic(self, method, path, *args, secure=True, **kwargs):
        return super().generic(method, path, *args, secure=True, **kwargs)


def api_client(user=None) -> HttpsApiClient:
    client = HttpsApiClient()
    if user is not None:
        client.force_authenticate(user)
    return client
