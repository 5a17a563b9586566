"""The help page: how Terminfinder works, and the help bot's chat box."""

from django.shortcuts import render
from django.urls import reverse


def help_page(request):
    return render(
        request,
        "chatbot/help.html",
        {
            "search_url": reverse("bookings:search"),
            "appointments_url": reverse("bookings:appointments"),
            "alerts_url": reverse("bookings:alerts"),
            "account_url": reverse("bookings:account"),
        },
    )
