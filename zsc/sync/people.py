"""Who wrote what: Slack people and their Zendesk counterparts, cached in the store
so a busy thread does not cost a users.info and a users/search per message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from loguru import logger

from zsc.errors import ApiError, AuthError, NotFound, RateLimited
from zsc.store import utcnow
from zsc.sync.context import SyncContext

REFRESH = timedelta(hours=24)
UNKNOWN_REFRESH = timedelta(hours=1)  # someone Slack would not tell us about: ask again after this
NO_ZENDESK_USER = 0  # cached "searched, not found" (ids start at 1)
_told: set[str] = set()  # people whose lookup failure was logged (once per process)


@dataclass(frozen=True)
class Person:
    slack_user_id: str
    name: str
    email: str | None


def slack_person(ctx: SyncContext, user_id: str | None, fallback_name: str | None = None) -> Person:
    """The person behind a Slack user id. `fallback_name` is the name the message itself
    carries (user_profile), used when Slack will not say more."""
    if not user_id:
        return Person("", fallback_name or "Someone", None)
    return _memo(ctx, ("slack", user_id), lambda: _slack_person(ctx, user_id, fallback_name))


def _memo(ctx: SyncContext, key: tuple, compute: Callable[[], Any]) -> Any:
    """Once per cycle per key: a busy thread asks the store (or the API) once."""
    if key not in ctx.memo:
        ctx.memo[key] = compute()
    return ctx.memo[key]


def _slack_person(ctx: SyncContext, user_id: str, fallback_name: str | None) -> Person:
    """Never fails: someone Slack will not tell us about (another organisation in a
    shared channel: user_not_found / user_not_visible; a deactivated account; a 5xx)
    gets the name the message carries, else their id, and the message still goes
    through in this cycle. Such a fallback is kept for UNKNOWN_REFRESH, not a day."""
    cached = ctx.store.slack_user(user_id)
    if cached and utcnow() - cached.fetched_at < REFRESH:
        return Person(user_id, cached.name, cached.email)
    try:
        info = ctx.slack.user(user_id)
    except (AuthError, RateLimited):
        raise  # not about this person: the whole poll stops
    except ApiError as exc:
        _tell_once(f"slack:{user_id}", "Slack user {} could not be looked up ({}); named \"{}\" for now",
                   user_id, exc, fallback_name or user_id)
        if cached:  # an older answer beats a guess
            return Person(user_id, cached.name, cached.email)
        name = fallback_name or user_id
        # saved as fetched long ago, so it is asked again after UNKNOWN_REFRESH rather than in a day
        ctx.store.save_slack_user(user_id, name, None, None, fetched_at=utcnow() - (REFRESH - UNKNOWN_REFRESH))
        return Person(user_id, name, None)
    ctx.store.save_slack_user(user_id, info.name, info.email,
                              cached.zendesk_user_id if cached and cached.email == info.email else None)
    return Person(user_id, info.name, info.email)


def _tell_once(key: str, message: str, *args: object) -> None:
    if key not in _told:
        _told.add(key)
        logger.warning(message, *args)


def slack_name(ctx: SyncContext, user_id: str) -> str | None:
    """For rendering <@U123> mentions."""
    return slack_person(ctx, user_id).name


def zendesk_user_for(ctx: SyncContext, person: Person) -> int | None:
    """The Zendesk user id of a Slack person (by email), or None when they have none."""
    if not person.email:
        return None
    return _memo(ctx, ("zendesk_for", person.slack_user_id, person.email), lambda: _zendesk_user_for(ctx, person))


def _zendesk_user_for(ctx: SyncContext, person: Person) -> int | None:
    cached = ctx.store.slack_user(person.slack_user_id)
    if cached and cached.zendesk_user_id is not None and utcnow() - cached.fetched_at < REFRESH:
        return cached.zendesk_user_id or None
    try:
        user = ctx.zendesk.find_user(person.email)
    except (AuthError, RateLimited):
        raise
    except ApiError as exc:  # no answer now: write as the agent this time, ask again next cycle
        _tell_once(f"zendesk-search:{person.email}", "Zendesk user search for {} failed ({}); the agent writes "
                   "their comment this time", person.slack_user_id or person.name, exc)
        return None
    found = user.id if user else NO_ZENDESK_USER
    if person.slack_user_id:
        ctx.store.save_slack_user(person.slack_user_id, person.name, person.email, found)
    return found or None


def zendesk_name(ctx: SyncContext, user_id: int | None) -> str:
    if not user_id:
        return "Zendesk"
    return _memo(ctx, ("zendesk_name", user_id), lambda: _zendesk_name(ctx, user_id))


def _zendesk_name(ctx: SyncContext, user_id: int) -> str:
    cached = ctx.store.zendesk_user(user_id)
    if cached and utcnow() - cached.fetched_at < REFRESH:
        return cached.name
    try:
        user = ctx.zendesk.user(user_id)
    except (AuthError, RateLimited):
        raise
    except ApiError as exc:  # deleted, suspended, or no answer: a name is not worth an item's failure
        _tell_once(f"zendesk:{user_id}", "Zendesk user {} could not be looked up ({}); named \"user {}\"",
                   user_id, exc, user_id)
        return cached.name if cached else f"user {user_id}"
    ctx.store.save_zendesk_user(user_id, user.name or f"user {user_id}", user.email)
    return user.name or f"user {user_id}"


def zendesk_look(ctx: SyncContext, user_id: int | None, name: str) -> tuple[str, str | None]:
    """How a Zendesk comment's author appears with post_as_agent: their name (cut to
    what Slack shows, never able to ping) and Zendesk photo (asked once per process)."""
    from zsc import format as fmt

    shown = fmt.one_line_name(name)[:80] or "Zendesk"
    if not user_id:
        return shown, None
    if user_id not in ctx.photos:
        try:
            ctx.photos[user_id] = ctx.zendesk.user(user_id).photo_url
        except (AuthError, RateLimited):
            raise
        except ApiError:
            return shown, None  # no picture is no reason to hold the comment back
    photo = ctx.photos[user_id]
    return shown, photo if photo and photo.startswith(("https://", "http://")) else None


def zendesk_is_agent(ctx: SyncContext, user_id: int | None) -> bool:
    """True for agents and admins; a user Zendesk does not give a role for counts as one
    (asked once per cycle; the first-answer check needs it once per issue)."""
    if not user_id:
        return False
    return _memo(ctx, ("zendesk_agent", user_id), lambda: _zendesk_is_agent(ctx, user_id))


def _zendesk_is_agent(ctx: SyncContext, user_id: int) -> bool:
    try:
        role = ctx.zendesk.user(user_id).role
    except NotFound:
        return False
    return role in (None, "agent", "admin")
