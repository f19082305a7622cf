"""Effect estimates that tell the truth about parent contact and assignment completion.

Teachers call home *because* a student just fell behind, and a bad spell usually passes
on its own; so the before/after change of contacted students is not the effect of the
call. Each estimate here rests on a comparison built so that it is valid by construction,
as far as school records allow, and says "not estimable" with the reason where none is.

**Contacts (personal and written): a comparison of decisions.** A teacher decides about a
student in their own classes, so the unit is the (teacher, student) pair on a day someone
at the school made a contact (``panel``).

- *Treated*: the teacher attempted a contact with the family that day about schoolwork (or
  with no purpose recorded), whatever came of it (intention to treat). Counting only calls
  that reached the family would put the unanswered ones among the comparisons, and whether
  a family answers goes with how engaged it is, which also drives completion: reaching is
  selection.
- *Comparison*: students of the same school not contacted that day, with the same record
  in that teacher's classes (missed in the last 7 days, completion over 14 days, missed
  among the last three, a missed test or project, and whether something was missed in the
  last 3 days), in the same week, with the same longer-run completion. The record is the
  teacher's view, not the student's overall count: what the teacher saw is what decided
  the call. The last 3 days place the call in the dip: contacts follow a fresh miss, and
  a student whose misses are a week old is further into their rebound.
- *Fresh*: both groups had no school attempt with the family in the ``hold_days`` before.
  A teacher who has just called or decided not to does not reconsider for some weeks, so
  students with a recent contact are neither candidates nor carriers of no effect.
- *Students on track* (nothing missed in the teacher's classes in the window before) are
  not rows: a call about missing work is what is estimated.
- *Outcome*: completion of work due in the ``window_days`` after, adjusted for completion
  in the weeks before (a within-cell regression on the comparison rows), not the change
  from before. Contacts select on a passing state, the bottom of a dip: the change from
  there rebounds whatever is done, and the timing of the rebound differs between students
  with the same count of misses. On simulated divisions built by a generator we did not
  write, the difference-in-differences "found" an effect of contacts that did nothing in
  5 of 8 worlds; the lagged adjustment in none of 8. The comparison rows the adjustment
  is fitted on carry the effect of their own later contacts, so the share of work after
  a later contact is adjusted alike (``matching.with_outcome``).
- *Not estimable* when more than half of the comparison students were themselves
  contacted in the week after: when nearly everyone who falls behind is called, those not
  yet called are not a group the school chose not to call.
- ``att_personal_contact`` (per family reached) is the attempt's effect divided by the
  share of attempts that reached the family: the effect of a conversation if an
  unanswered call does nothing. Its interval runs from the attempt's lower limit (an
  unanswered call as effective as a conversation) to the ratio's upper limit.

**Conferences: a difference-in-differences.** Families come to conferences for who they
are all year, not after a bad week (selection on a lasting trait): each family who
attended is compared with families of the same school booked the same week who did not
come, on the change from the window before to the window after.

**Together.** Comparison students contacted later count on, and the share of each group's
work that fell after a later contact or conference is measured; personal contacts,
written contacts and conferences are solved together for one effect each (a fuzzy
comparison, the Wald ratio of de Chaisemartin and D'Haultfoeuille, 2018), assuming an
event's effect lasts the window. Intervals come from one cluster bootstrap over students
(seeded) that resamples every design at once; a school's resamples are the division's,
restricted to its students.

**Broadcasts** reach every family of a school in the same week, so they can only be
compared between weeks, and whatever else those weeks brought (a contact drive, report
cards) is in the difference: their figures are descriptive only.

Unless the design is randomised, an estimate says "associated with", not "caused".

The modules: ``design`` (settings and the estimands, each named once), ``panel`` (the
decision rows), ``matching`` (cells, exposure shares, the outcome), ``events`` (what every
estimate shares, computed once), ``inference`` (one bootstrap path, intervals, the solve),
``sums`` (a design's matched sums under the resamples, per school), ``fit`` (the joint fit
of the division and of each school), ``contacts`` (its tables for the division and each
school), ``broadcasts``, ``event_study``, ``selection`` and ``campaigns``.
"""

from engagement.estimate.broadcasts import (
    broadcast_association,
    broadcast_effect,
    school_week_counts,
    school_weeks_from,
)
from engagement.estimate.campaigns import campaign_hand_in, find_campaigns, results_by_class
from engagement.estimate.contacts import contact_effects, effects, effects_from_rows
from engagement.estimate.design import DESCRIPTIVE, DESIGNS, ESTIMANDS, MATCH_ON, Design
from engagement.estimate.event_study import event_study
from engagement.estimate.events import (
    Prepared,
    attempts_of_mode,
    decisions_of_mode,
    events_of_mode,
    school_days,
)
from engagement.estimate.matching import with_exposures, with_outcome
from engagement.estimate.selection import dose_response, initiator_before_after, invitations

__all__ = [
    "DESCRIPTIVE", "DESIGNS", "ESTIMANDS", "MATCH_ON", "Design", "Prepared",
    "attempts_of_mode", "broadcast_association", "broadcast_effect", "campaign_hand_in",
    "contact_effects", "decisions_of_mode", "dose_response", "effects", "effects_from_rows",
    "event_study", "events_of_mode", "find_campaigns", "initiator_before_after", "invitations",
    "results_by_class", "school_days", "school_week_counts", "school_weeks_from",
    "with_exposures", "with_outcome",
]
