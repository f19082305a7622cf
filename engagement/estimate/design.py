"""The settings every estimate shares, and the estimands, each named once.
"""

from __future__ import annotations

from dataclasses import dataclass

from engagement.estimate.panel import DECISION_CELL

PERSONAL_CHANNELS = ("phone", "meeting", "conference", "home_visit", "video_call")


@dataclass(frozen=True)
class Design:
    """The settings every estimate shares."""

    window_days: int = 21
    n_boot: int = 500
    confidence: float = 0.95
    seed: int = 0
    timezone: str = "America/Edmonton"
    hold_days: int = 28  # no school attempt with the family in these days before: fresh


# Every estimand of effects.csv, named once: what it is in words, and a short label.
ESTIMANDS = {
    "att_personal_attempt": ("a teacher calling or meeting the family about schoolwork "
                             "(answered or not)", "Call or meeting attempted"),
    "att_personal_contact": ("reaching the family in person or by phone about schoolwork",
                             "Personal contact (reached)"),
    "att_written_contact": ("a written message home about schoolwork (email, text, letter, "
                            "portal)", "Written message home"),
    "att_conference_attended": ("attending a parent-teacher or 3-way conference",
                                "Conference attended"),
    "att_broadcast": ("a bulletin or newsletter going out", "Bulletin or newsletter"),
    "naive_before_after_personal": ("naive before/after of personal contact",
                                    "Naive before/after (not an effect)"),
}


def estimand_label(name: str) -> str:
    """An estimand's short label, as tables and charts show it; the checks and the
    broadcast channels (``pretrend_*``, ``broadcast_*``) by what they are about."""
    if name in ESTIMANDS:
        return ESTIMANDS[name][1]
    if name.startswith("pretrend_"):
        mode = name.removeprefix("pretrend_").removesuffix("_contact")
        return f"Parallel before? ({mode} contact)"
    if name.startswith("broadcast_"):
        channel = name.removeprefix("broadcast_").replace("_", " ")
        return "Broadcast: " + channel.replace("sis ", "SIS ")
    return name


# Each kind of event is estimated with its own matched design; the three are solved together.
DESIGNS = {"personal": "att_personal_attempt", "written": "att_written_contact",
           "conference": "att_conference_attended"}


# Contacts follow a bad spell that passes whatever is done: they are compared on completion
# after, adjusted for the weeks before (selection on a passing state). Families come to
# conferences for who they are all year: compared on the change (selection on a lasting
# trait, which a difference removes and a lagged adjustment would not).
ADJUSTED = ("personal", "written")


# More than this share of the comparison contacted in the week after: they are students
# not yet contacted, not students the school chose not to contact.
MAX_CONTACTED_AFTER = 0.5


# What treated and comparison rows must share. Contacts follow missed work, so a
# contacted student is compared with students who missed as much in the same week.
# Families come to conferences for who they are all year, not after a bad week: matched
# on a bad recent record, attended students would be those having an unusually bad spell
# for them, who then rebound more (+3 points under a null effect on simulated data).
MATCH_ON = {"personal": DECISION_CELL, "written": DECISION_CELL,
            "conference": ["school_id", "week"]}


# Columns of a design's per-student sums: the outcome, the share of each kind, then
# treated rows, their completion after, those whose family was reached, and comparison
# weight with and without a contact in the week after.
EXPOSED = {k: 1 + i for i, k in enumerate(("personal", "written", "conference"))}


TREATED, AFTER, REACHED, COMPARISON, CONTACTED_AFTER = 4, 5, 6, 7, 8


# A design with fewer contacted students is not solved for: most resamples would hold
# none of them, and the other designs' intervals would rest on the few that do.
MIN_TREATED_STUDENTS = 10


DECISION_METHOD = (
    "matched comparison of decisions: each {what} by a teacher about schoolwork (or with no "
    "purpose recorded) to a student who had fallen behind in that teacher's classes, against "
    "students of the same school not contacted that day, fresh like them (no school attempt "
    "with the family in the {h} days before), "
    "with the same record in that teacher's classes (missed in the last 7 days, completion "
    "over 14 days, missed among the last three, a missed test or project, a miss in the "
    "last 3 days), the same week and the same longer-run completion; completion of work "
    "due in the {w} days after, adjusted for completion in the weeks before (not the "
    "change: a dip passes whatever is done); ")


JOINT = ("comparison students contacted later count on, and the share of each group's work "
         "that fell after a later contact or conference is removed by estimating personal "
         "contacts, written contacts and conferences together; cluster bootstrap over "
         "students ({b} resamples); estimate in percentage points")


METHOD = {
    "personal": DECISION_METHOD.replace("{what}", "call or meeting attempted (answered or "
                                        "not)") + JOINT,
    "written": DECISION_METHOD.replace("{what}", "email, text or letter") + JOINT,
    "conference": ("matched difference-in-differences: completion of work due in the {w} "
                   "days after against the {w} days before, each family who attended a "
                   "conference against families scheduled the same week who did not come, "
                   "of the same school and calendar week; " + JOINT)}


REACHED_METHOD = ("the attempt's effect divided by the share of attempts that reached the "
                  "family (a Wald ratio; its interval runs from the attempt's lower limit, "
                  "should an unanswered call do as much, to the ratio's upper limit, should "
                  "it do nothing): ")


ATTEMPT_CAVEAT = ("Associated with, not proven to cause: families were not contacted at random. "
                  "The comparison students had fallen behind in the same way, in the same "
                  "week, and had not been contacted recently either, but not every "
                  "difference is removed.")


CAVEAT = {"personal": ATTEMPT_CAVEAT + " Counts every attempt, answered or not: what a "
                                       "teacher's decision to call is associated with.",
          "written": ATTEMPT_CAVEAT,
          "conference": ("Associated with, not proven to cause: families choose to come. The "
                         "comparison families were booked the same week and did not come; "
                         "comparing changes removes lasting differences between families, "
                         "not what else changed for them that week.")}


# Broadcasts reach every family of a school at once, so the comparison is between weeks:
# what else happens in a broadcast week (a contact drive, report cards, the start of a
# month) cannot be told apart from it. On simulated divisions whose drive weeks coincide
# with newsletters, a broadcast "effect" that was not there came out in some worlds.
DESCRIPTIVE = "descriptive only, not an effect estimate: "


BROADCAST_CAVEAT = ("Descriptive only: a broadcast goes to every family in the same week, so "
                    "whatever else that week brought (a contact drive, report cards, a "
                    "holiday) is in the difference too.")


REACHED_CAVEAT = ("Per family reached, if an unanswered call does nothing; if it does "
                  "something this overstates, and the attempt's estimate is the lower bound. "
                  "Reached families are not compared with others directly: families who "
                  "answer are the more engaged ones, and that is selection, not effect.")


NAIVE_METHOD = ("naive before/after: completion of work due in the {w} days after minus the "
                "{w} days up to the contact, at each student's first reached personal "
                "contact (no comparison group); inflated by "
                "the rebound that follows a bad week")
