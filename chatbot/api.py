"""The chat API: ask the practice bot or the help bot, then poll the ticket.

    POST /api/chat/<practice public id>/   → 202 {ticket, poll_url, status: "pending", redacted}
    POST /api/chat/help/                   → 202 (the help bot, queue `low`)
    GET  /api/chat/tickets/<ticket>/       → 200 {status: pending|done, answer, category, ...}; 404

Anonymous by design: no authentication is read, so a question is never linked to an account
(and a cross-site post can do nothing but ask a question). The length cap and the redaction
run here, in the request, so only redacted text reaches the cache and only a ticket the queue.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from dramatiq.errors import BrokerError
from redis.exceptions import RedisError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from bookings.api_errors import ErrorSerializer
from practices.selectors import practice_exists

from . import pipeline, tickets
from .tasks import answer_help_question, answer_practice_question


class ChatUnavailable(exceptions.APIException):
    """The chat needs Redis (queue and ticket cache); without it, 503 and when to try again."""

    status_code = 503
    default_detail = gettext_lazy("This service is briefly unavailable. Please try again in a minute.")
    default_code = "unavailable"
    wait = 60  # DRF sends it as Retry-After


class QuestionSerializer(serializers.Serializer):
    message = serializers.CharField(trim_whitespace=True)
    language = serializers.ChoiceField(choices=[c for c, _n in settings.LANGUAGES], required=False)

    def validate_message(self, value: str) -> str:
        limit = settings.CHATBOT_MAX_MESSAGE_LENGTH
        if len(value) > limit:
            raise serializers.ValidationError(
                _("Please keep your question to at most %(limit)d characters.") % {"limit": limit}
            )
        return value


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    poll_url = serializers.CharField()
    status = serializers.ChoiceField(choices=tickets.STATUS_CHOICES)
    redacted = serializers.ListField(
        child=serializers.CharField(), help_text="Kinds of personal data removed from the message before use."
    )


class AnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=tickets.STATUS_CHOICES)
    answer = serializers.CharField(required=False)
    category = serializers.ChoiceField(
        required=False,
        choices=["answered", "unknown", "greeting", "emergency", "crisis", "medical", "injection", "off_topic"],
    )
    source = serializers.CharField(required=False, help_text='"faq", "practice:<topic>", "help:<topic>" or "fixed:<kind>".')
    language = serializers.CharField(required=False)
    phrased = serializers.BooleanField(required=False, help_text="Phrased by the language model.")


class ChatView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "chat"
    bot = ""

    def ask(self, request, *, actor, practice_public_id=None):
        serializer = QuestionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hint = serializer.validated_data.get("language") or (get_language() or "de")[:2]
        prepared = pipeline.prepare(serializer.validated_data["message"], language_hint=hint)
        try:
            ticket = tickets.ticket_open(
                bot=self.bot,
                text=prepared.text,
                language=prepared.language,
                practice_public_id=practice_public_id,
                guard=prepared.guard,
            )
            actor.send(ticket)
        except (RedisError, BrokerError) as error:
            raise ChatUnavailable() from error
        body = {
            "ticket": ticket,
            "poll_url": reverse("api:chat-ticket", args=[ticket]),
            "status": tickets.PENDING,
            "redacted": sorted(set(prepared.redacted)),
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class PracticeChatView(ChatView):
    bot = pipeline.PRACTICE_BOT

    @extend_schema(request=QuestionSerializer, responses={202: TicketSerializer, 503: ErrorSerializer}, summary="Ask the practice bot")
    def post(self, request, public_id):
        if not practice_exists(public_id):
            raise exceptions.NotFound()
        return self.ask(request, actor=answer_practice_question, practice_public_id=str(public_id))


class HelpChatView(ChatView):
    bot = pipeline.HELP_BOT

    @extend_schema(request=QuestionSerializer, responses={202: TicketSerializer, 503: ErrorSerializer}, summary="Ask the help bot")
    def post(self, request):
        return self.ask(request, actor=answer_help_question)


class TicketView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "chat_poll"

    @extend_schema(responses={200: AnswerSerializer, 503: ErrorSerializer}, summary="Poll a chat ticket")
    def get(self, request, ticket):
        try:
            result = tickets.ticket_result(ticket)
        except RedisError as error:
            raise ChatUnavailable() from error
        if result is None:
            raise exceptions.NotFound()
        body = {key: result[key] for key in ("status", "answer", "category", "language", "phrased") if key in result}
        if "source" in result:
            # An FAQ entry's database id stays inside: the API shows public ids only.
            body["source"] = "faq" if result["source"].startswith("faq:") else result["source"]
        return Response(body)
