from django.urls import path

from . import views

app_name = "chatbot"

urlpatterns = [
    path("hilfe/", views.help_page, name="help"),
]
