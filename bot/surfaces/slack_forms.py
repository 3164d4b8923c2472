"""The form half of the Slack surface: a form opens as a modal (views.open), its submission is answered
in the view_submission's ack (errors at their inputs, or nothing, which closes the modal)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.form import Form
from bot.render.slack_form import errors_response, to_view

log = logging.getLogger(__name__)

FormAck = Callable[[dict[str, Any]], Awaitable[None]]


class SlackForms:
    client: AsyncWebClient
    channel: str
    trigger_id: str | None = None  # the command's or button's: views.open takes it once, within 3 s
    form_ack: FormAck | None = None  # a view_submission's ack, until the form is answered

    async def open_form(self, form: Form) -> bool:
        trigger, self.trigger_id = self.trigger_id, None
        if not trigger:
            return False
        try:
            await self.client.views_open(trigger_id=trigger, view=to_view(form, channel=self.channel))
        except SlackApiError as exc:
            # expired_trigger_id when the work before it took over 3 s: the caller answers without a form.
            log.warning("views.open refused the run form: %s", exc.response.get("error"))
            return False
        return True

    async def answer_form(self, problems: Mapping[str, str]) -> None:
        ack, self.form_ack = self.form_ack, None
        if ack is not None:
            await ack(errors_response(problems))
