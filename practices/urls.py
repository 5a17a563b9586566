from django.urls import path

from . import views

app_name = "practices"

urlpatterns = [
    path("praxen/<uuid:public_id>/", views.practice_detail, name="detail"),
]
