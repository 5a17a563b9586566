"""The chat endpoints, mounted under /api/ with the rest of the API (terminfinder/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("chat/help/", api.HelpChatView.as_view(), name="chat-help"),
    path("chat/tickets/<str:ticket>/", api.TicketView.as_view(), name="chat-ticket"),
    path("chat/<uuid:public_id>/", api.PracticeChatView.as_view(), name="chat-practice"),
]
