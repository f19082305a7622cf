"""The category values of the data model and the raw spellings that map to them.

One table, user-extensible, so that "PH", "phone call" and "Tel." all become
``phone`` the same way everywhere, and a spelling nobody listed is reported
instead of guessed.
"""

from __future__ import annotations

import re

CONTACT_CHANNELS = (
    "phone", "meeting", "conference", "home_visit", "video_call",
    "email", "text", "letter", "portal_message",
)
PERSONAL_CHANNELS = ("phone", "meeting", "conference", "home_visit", "video_call")
WRITTEN_CHANNELS = ("email", "text", "letter", "portal_message")
BROADCAST_CHANNELS = (
    "sis_bulletin", "newsletter", "website", "social_media", "mass_email", "robocall",
)
MODES = ("personal", "written")
INITIATORS = ("school", "parent", "student", "unknown")
PURPOSES = (
    "missing_work", "academic", "behaviour", "attendance", "positive", "general",
    "health", "unknown",
)
OUTCOMES = ("reached", "left_message", "no_answer", "unknown")
CONFERENCE_STATUSES = (
    "attended", "no_show", "rescheduled", "cancelled", "declined", "scheduled",
)
CONFERENCE_FORMATS = ("three_way", "parent_teacher", "other")
RESULT_STATUSES = ("on_time", "late", "missing", "excused", "pending")
AUDIENCES = ("school", "grade", "class")

#: The canonical values of each categorical column, by ``table.column``.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "contacts.channel": CONTACT_CHANNELS,
    "contacts.mode": MODES,
    "contacts.initiator": INITIATORS,
    "contacts.purpose": PURPOSES,
    "contacts.outcome": OUTCOMES,
    "broadcasts.channel": BROADCAST_CHANNELS,
    "broadcasts.audience": AUDIENCES,
    "conferences.status": CONFERENCE_STATUSES,
    "conferences.format": CONFERENCE_FORMATS,
    "conferences.invited_via": CONTACT_CHANNELS + BROADCAST_CHANNELS,
    "results.status": RESULT_STATUSES,
}


def mode_of(channel: str) -> str:
    """Return ``personal`` or ``written`` for a contact channel."""
    if channel in PERSONAL_CHANNELS:
        return "personal"
    if channel in WRITTEN_CHANNELS:
        return "written"
    raise ValueError(f"channel {channel!r} is not a contact channel; expected one of "
                     f"{', '.join(CONTACT_CHANNELS)}")


# Raw spellings seen in real exports, by vocabulary. Keys are compared after
# ``normalise_spelling`` (lower case, single spaces, no trailing dot); every
# canonical value also maps to itself.
SPELLINGS: dict[str, dict[str, str]] = {
    "channel": {
        "phone": "phone", "phone call": "phone", "ph": "phone", "tel": "phone",
        "telephone": "phone", "call": "phone", "called": "phone", "phoned": "phone",
        "phone call home": "phone", "cell": "phone",
        "meeting": "meeting", "mtg": "meeting", "in person": "meeting",
        "in-person": "meeting", "face to face": "meeting", "met": "meeting",
        "conference": "conference", "conf": "conference", "pt conference": "conference",
        "parent-teacher conference": "conference", "3-way": "conference",
        "3 way conference": "conference", "three-way conference": "conference",
        "home visit": "home_visit", "home_visit": "home_visit", "hv": "home_visit",
        "video": "video_call", "video call": "video_call", "zoom": "video_call",
        "teams": "video_call", "google meet": "video_call", "video_call": "video_call",
        "email": "email", "e-mail": "email", "e mail": "email", "em": "email",
        "mail (electronic)": "email",
        "text": "text", "txt": "text", "sms": "text", "text message": "text",
        "letter": "letter", "note home": "letter", "note": "letter",
        "agenda note": "letter", "letter home": "letter",
        "portal": "portal_message", "portal message": "portal_message",
        "powerschool message": "portal_message", "app message": "portal_message",
        "portal_message": "portal_message", "remind": "portal_message",
    },
    "broadcast_channel": {
        "powerschool bulletin": "sis_bulletin", "sis bulletin": "sis_bulletin",
        "bulletin": "sis_bulletin", "daily bulletin": "sis_bulletin",
        "weekly bulletin": "sis_bulletin", "sis_bulletin": "sis_bulletin",
        "newsletter": "newsletter", "news letter": "newsletter",
        "school newsletter": "newsletter",
        "website": "website", "web site": "website", "school website": "website",
        "twitter": "social_media", "x": "social_media", "x (twitter)": "social_media",
        "fb": "social_media", "facebook": "social_media",
        "facebook post": "social_media", "instagram": "social_media",
        "social media": "social_media", "social_media": "social_media",
        "mass email": "mass_email", "mass e-mail": "mass_email",
        "email blast": "mass_email", "mass_email": "mass_email",
        "robocall": "robocall", "robo call": "robocall", "auto-dialer": "robocall",
        "autodialer": "robocall",
    },
    "initiator": {
        "school": "school", "teacher": "school", "staff": "school", "admin": "school",
        "principal": "school", "counsellor": "school", "counselor": "school",
        "parent": "parent", "guardian": "parent", "family": "parent", "mom": "parent",
        "dad": "parent", "parent/guardian": "parent",
        "school initiated": "school", "teacher initiated": "school",
        "staff initiated": "school", "me": "school",
        "parent initiated": "parent", "guardian initiated": "parent",
        "student initiated": "student",
        "student": "student", "unknown": "unknown", "": "unknown",
    },
    "purpose": {
        "missing work": "missing_work", "missing_work": "missing_work",
        "missing assignment": "missing_work", "missing assignments": "missing_work",
        "incomplete work": "missing_work", "homework": "missing_work",
        "late work": "missing_work",
        "academic": "academic", "academics": "academic", "grades": "academic",
        "progress": "academic", "academic concern": "academic",
        "behaviour": "behaviour", "behavior": "behaviour", "discipline": "behaviour",
        "attendance": "attendance", "absence": "attendance", "absent": "attendance",
        "positive": "positive", "good news": "positive", "praise": "positive",
        "positive call": "positive",
        "general": "general", "info": "general", "information": "general",
        "other": "general",
        "health": "health", "medical": "health", "illness": "health",
        "unknown": "unknown", "": "unknown",
    },
    "outcome": {
        "reached": "reached", "spoke": "reached", "sent": "reached", "spoke with parent": "reached",
        "talked": "reached", "contacted": "reached",
        "left message": "left_message", "left_message": "left_message",
        "lm": "left_message", "voicemail": "left_message", "vm": "left_message",
        "no answer": "no_answer", "no_answer": "no_answer", "na": "no_answer",
        "no response": "no_answer",
        "unknown": "unknown", "": "unknown",
    },
    "conference_status": {
        "attended": "attended", "completed": "attended", "met": "attended",
        "present": "attended", "held": "attended",
        "no show": "no_show", "no-show": "no_show", "no_show": "no_show",
        "did not attend": "no_show", "dna": "no_show", "absent": "no_show",
        "rescheduled": "rescheduled", "moved": "rescheduled",
        "cancelled": "cancelled", "canceled": "cancelled",
        "declined": "declined",
        "booked": "scheduled", "scheduled": "scheduled", "confirmed": "scheduled",
    },
    "result_status": {
        "on time": "on_time", "on_time": "on_time", "submitted": "on_time",
        "turned in": "on_time",
        "late": "late", "l": "late",
        "missing": "missing", "m": "missing", "msg": "missing", "not submitted": "missing",
        "ns": "missing", "0 - missing": "missing",
        "excused": "excused", "ex": "excused", "exempt": "excused", "exc": "excused",
        "pending": "pending", "inc": "pending", "incomplete": "pending",
        "ungraded": "pending", "not graded": "pending", "-": "pending", "—": "pending",
        # Blackboard: handed in and awaiting a grade; an attempt begun, not handed in.
        "needs grading": "on_time", "in progress": "pending",
    },
}
for _name, _values in {
    "channel": CONTACT_CHANNELS, "broadcast_channel": BROADCAST_CHANNELS,
    "initiator": INITIATORS, "purpose": PURPOSES, "outcome": OUTCOMES,
    "conference_status": CONFERENCE_STATUSES, "result_status": RESULT_STATUSES,
}.items():
    SPELLINGS[_name].update({v: v for v in _values})

_SPACES = re.compile(r"\s+")


def normalise_spelling(raw: str) -> str:
    """Lower-case, trim, collapse inner spaces and drop a trailing full stop."""
    return _SPACES.sub(" ", str(raw)).strip().lower().rstrip(".").strip()
