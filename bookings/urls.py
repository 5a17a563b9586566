from django.urls import path

from . import views, views_account

app_name = "bookings"

urlpatterns = [
    path("suche/", views.search, name="search"),
    path("aerzte/<uuid:public_id>/termine/", views.doctor_slots, name="doctor-slots"),
    path("termine/<uuid:public_id>/buchen/", views.book, name="book"),
    path("meine-termine/", views.appointments, name="appointments"),
    path("meine-termine/<uuid:public_id>/", views.appointment, name="appointment"),
    path("meine-termine/<uuid:public_id>/absagen/", views.appointment_cancel, name="appointment-cancel"),
    path("meine-termine/<uuid:public_id>/termin.ics", views.appointment_ics, name="appointment-ics"),
    path("benachrichtigungen/", views_account.alerts, name="alerts"),
    path("benachrichtigungen/neu/", views_account.alert_new, name="alert-new"),
    path("benachrichtigungen/<uuid:public_id>/beenden/", views_account.alert_end, name="alert-end"),
    path("konto/", views_account.account, name="account"),
    path("konto/daten/", views_account.account_export, name="account-export"),
    path("konto/loeschen/", views_account.account_delete, name="account-delete"),
]
