"""Parameters of the sample division: one object, overridable by a TOML file.

Every number the generator uses lives here, so ``ground_truth.json`` can list
them all and a researcher can plant other effects with a small TOML file::

    students = 3000
    [effects]
    personal_contact = 0.0   # a null world
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Effects:
    """Planted causal effects on the probability of completing an assignment.

    Each applies to the student's assignments due in the ``window_days`` after
    the event (personal contacts only when the family was reached, unless
    ``SampleConfig.unreached_effect_share`` gives unreached attempts a share).
    """

    personal_contact: float = 0.15
    written_contact: float = 0.07
    conference_attended: float = 0.04
    broadcast: float = 0.0
    window_days: int = 21


@dataclass(frozen=True)
class SampleConfig:
    """Everything the sample generator needs; defaults give ``data/sample/``."""

    seed: int = 0
    students: int = 1200
    students_per_school: int = 400
    first_day: str = "2025-09-02"
    last_day: str = "2026-06-26"
    breaks: tuple[tuple[str, str], ...] = (
        ("2025-10-13", "2025-10-13"),  # Thanksgiving
        ("2025-11-10", "2025-11-11"),  # Remembrance Day
        ("2025-12-22", "2026-01-02"),  # winter break
        ("2026-02-16", "2026-02-20"),  # family day and teachers' convention
        ("2026-03-23", "2026-03-27"),  # spring break
    )
    timezone: str = "America/Edmonton"
    classes_per_student: int = 8
    class_size: int = 26
    assignments_per_class: tuple[int, int] = (35, 40)

    # Completion: logit = base + family engagement + class effect + weekly shock.
    base_logit: float = 2.2
    engagement_sd: float = 0.9
    class_sd: float = 0.35
    noise_sd: float = 0.3
    dip_start: float = 0.08  # weekly chance that a student starts a dip
    dip_stay: float = 0.30  # chance that a dip lasts one more week
    dip_logit: float = -3.0
    dip_depth_sd: float = 0.0  # SD of a dip's logit depth around dip_logit, drawn per dip
    late_share: float = 0.12  # share of completed work handed in late
    excused_share: float = 0.01

    # School-initiated contacts triggered by missed work.
    trigger_missed: int = 2  # missed among the last three in a class
    contact_probability: float = 0.15  # so eligible-but-not-contacted students exist
    cooldown_days: int = 14
    personal_share: float = 0.55
    phone_reached: float = 0.70
    phone_left_message: float = 0.20
    other_school_contacts: float = 0.4  # per student-year: positive, behaviour...
    parent_contacts: float = 0.35  # per student-year at average engagement
    parent_engagement_slope: float = 0.9  # selection: engaged families call more

    # Harder contact decisions for benchmarks (the defaults switch them off; simulate.py).
    reach_engagement: float = 0.0  # phone reach: expit(logit(phone_reached) + this * engagement)
    decline_hold_days: int = 0  # an eligible pair the coin did not pick waits this many days
    depth_propensity: float = 0.0  # p = min(1, p * (1 + this * (missed of 3 - trigger_missed)))
    everyone_called: bool = False  # every eligible triggered pair is contacted (p = 1)
    unreached_effect_share: float = 0.0  # share of personal_contact an unreached attempt has
    drive_weeks: int = 0  # school-wide contact-drive weeks per school (random teaching weeks)
    drive_propensity: float = 0.9  # contact probability in a drive week (+ one newsletter)

    # Conferences (November and March).
    conference_days: tuple[str, ...] = ("2025-11-20", "2026-03-12")
    personal_invitation_share: float = 0.35
    attendance_logit: float = 0.9
    attendance_engagement: float = 0.9
    attendance_per_grade: float = -0.12
    attendance_personal_invitation: float = 0.8
    rescheduled_share: float = 0.06
    cancelled_share: float = 0.04

    # The phone campaign: one teacher calls the families of 24 students.
    campaign_students: int = 24
    campaign_call_delay_days: int = 3
    campaign_hand_in: float = 0.80

    effects: Effects = field(default_factory=Effects)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides) -> SampleConfig:
        """Read a TOML file of overrides (unknown keys are an error, not ignored)."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML ({err})") from None
        data.update(overrides)
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "config") -> SampleConfig:
        data = dict(data)
        effects = data.pop("effects", {})
        known = {f.name for f in dataclasses.fields(cls)} - {"effects"}
        known_effects = {f.name for f in dataclasses.fields(Effects)}
        unknown = sorted(set(data) - known) + [f"effects.{k}" for k in set(effects) - known_effects]
        if unknown:
            raise ValueError(f"{source}: unknown setting(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}, effects.*")
        for name, value in data.items():
            if isinstance(value, list):
                data[name] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        return cls(**data, effects=Effects(**effects))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
