"""The shape Slack gives each kind of request, checked before slack_bolt reads the body.

Two things are checked. Every body: the fields slack_bolt itself reads while it builds a request's
context and routes it (`slack_bolt.request.internals.extract_*`, its listener matchers and its
built-in middleware) have the types Slack sends, because a wrong type there raises inside Bolt.
Each kind Carapulse listens to: the fields Slack always sends it and the listeners in `actions/`
read by key. A body that passes can be handed to Bolt and to the listeners without a KeyError or
TypeError; anything else is reported as a ValueError naming the first field at fault.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.validation import first_error

T = TypeVar("T")


def _not_null(value: object) -> object:
    if value is None:
        raise PydanticCustomError("null", "may be left out but not null")
    return value


# A field Slack leaves out at times but never sends as null, where Bolt reads it as an object.
Omissible = Annotated[T | None, BeforeValidator(_not_null)]
Text = Annotated[str, StringConstraints(min_length=1)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]


class Shape(BaseModel):
    """Fields not named are ignored: only what Bolt or a listener reads is checked."""

    model_config = ConfigDict(defer_build=True)


class Identified(Shape):
    """A team, enterprise or channel object."""

    id: str | None = None


class Member(Identified):
    team_id: str | None = None


class ResponseUrl(Shape):
    response_url: Url


class View(Shape):
    callback_id: str | None = None
    team_id: str | None = None
    app_installed_team_id: str | None = None


class Context(Shape):
    """What slack_bolt reads from any body, and from the objects it recurses into."""

    type: str | None = None
    team: str | Identified | None = None
    enterprise: str | Identified | None = None
    user: str | Member | None = None
    channel: str | Identified | None = None
    team_id: str | None = None
    enterprise_id: str | None = None
    user_id: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    response_url: Url | None = None
    response_urls: Omissible[list[ResponseUrl]] = None
    authorizations: list[Context] | None = None
    view: Omissible[View] = None
    event: Omissible[Event] = None
    message: Context | None = None
    previous_message: Context | None = None
    item: Context | None = None
    assistant_thread: Context | None = None
    actions: Omissible[list[Shape]] = None


class Event(Context):
    type: Text


class SlashCommand(Context):
    command: Text
    text: str = ""
    team_id: Text
    user_id: Text
    channel_id: Text
    trigger_id: Text
    response_url: Url


class Actor(Member):
    id: Text


class Interaction(Context):
    """Listeners read the actor from `team.id` (or `user.team_id`) and `user.id`."""

    team: Identified | None = None
    user: Actor
    channel: Identified | None = None

    @model_validator(mode="after")
    def _names_a_team(self) -> Interaction:
        if not ((self.team and self.team.id) or self.user.team_id):
            raise PydanticCustomError("no_team", "names no team: neither team.id nor user.team_id is set")
        return self


class Action(Shape):
    action_id: Text
    value: Omissible[str] = None


class Container(Shape):
    type: Text


class BlockActions(Interaction):
    """A click in a message comes with a response_url (listeners answer through it); a click in a
    view (App Home, modal) comes without one."""

    actions: list[Action] = Field(min_length=1)
    trigger_id: Text
    container: Container

    @model_validator(mode="after")
    def _answerable(self) -> BlockActions:
        if self.container.type != "view" and self.response_url is None:
            raise PydanticCustomError("no_response_url", "a click on a message has no response_url")
        return self


class InputState(Shape):
    value: str | None = None


class ViewState(Shape):
    values: dict[str, dict[str, InputState]]


class SubmittedView(View):
    type: Text
    callback_id: Text
    private_metadata: str = ""
    state: ViewState


class ViewSubmission(Interaction):
    view: SubmittedView


class EventCallback(Context):
    event: Event


class BlockSuggestion(Context):
    action_id: str | None = None


class UrlVerification(Context):
    challenge: str


_BY_TYPE: dict[str, type[Context]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
    "event_callback": EventCallback,
    "block_suggestion": BlockSuggestion,
    "url_verification": UrlVerification,
}


def check(body: dict[str, object]) -> None:
    """Raise ValueError ("<kind>: <field>: <problem>") unless `body` has Slack's shape for its kind.

    The kind is read the way slack_bolt routes: a `command` field makes a slash command, else the
    `type` field names an interaction or event; an `ssl_check` form is Slack probing the URL.
    """
    kind, model = _kind(body)
    try:
        model.model_validate(body)
    except ValidationError as exc:
        raise ValueError(f"{kind}: {first_error(exc)}") from None


def _kind(body: dict[str, object]) -> tuple[str, type[Context]]:
    if "command" in body:
        return "slash command", SlashCommand
    kind = body.get("type")
    if isinstance(kind, str):
        return kind, _BY_TYPE.get(kind, Context)
    if "type" in body:
        raise ValueError("type is not a string")
    if body.get("ssl_check") == "1":
        return "ssl_check", Context
    raise ValueError("neither a slash command (no command field) nor an interaction or event (no type)")
