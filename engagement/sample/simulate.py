"""Simulate one school year of a fictional division, with known causal effects.

The world, in order of cause:

- each family has a latent engagement; each class an effect; each student
  week-to-week shocks, with temporary dips (a bad fortnight);
- the chance of completing an assignment is ``expit(base + engagement + class +
  shock)`` plus the planted effects of contacts, conferences and broadcasts in
  the ``window_days`` before its due day, clipped to [0, 1];
- teachers contact home *because* a student missed work (two of the last three
  in a class), but only some of the time, so eligible-but-not-contacted students
  exist; a dip is followed by a rebound anyway, which is what fools a naive
  before/after comparison;
- engaged families contact the school more often (selection, no effect);
- conference attendance depends on engagement, grade and a personal invitation.

Mechanisms that make the contact decision harder to model, for benchmarks. Each is
off by default, and off it draws no random number, so the default division (and
``data/sample/``) stays what it was; the random draws they need come from streams
of their own (``dips``, ``drives``):

- ``reach_engagement``: a phone call reaches the family with probability
  ``expit(logit(phone_reached) + reach_engagement * engagement)`` instead of
  ``phone_reached``; an unreached call leaves a message in the same proportion as
  before (``phone_left_message / (1 - phone_reached)``);
- ``decline_hold_days``: a triggered, eligible student-class pair that the teacher
  did not contact is not reconsidered for that many days (like ``cooldown_days``
  after a contact);
- ``depth_propensity``: the deeper the dip, the likelier the contact: with ``k``
  the work missed among the last three in the class (``trigger_missed`` to 3), the
  contact probability is ``min(1, p * (1 + depth_propensity * (k - trigger_missed)))``;
- ``everyone_called``: every eligible triggered pair is contacted (probability 1);
- ``unreached_effect_share``: a personal attempt that did not reach the family
  (voicemail, no answer) still has that share of the ``personal_contact`` effect,
  on work due in the window after it, unless a reached personal contact of the
  student is active then (the two do not add up); ``att_personal_contact`` stays the
  effect of reached personal contacts, ``att_personal_attempt`` includes this share;
- ``drive_weeks``: each school holds that many school-wide contact-drive weeks
  (distinct teaching weeks drawn at random per school); for work due in a drive
  week the contact probability is ``drive_propensity``, and the school sends an
  extra newsletter on the week's first school day (a broadcast, with the effect
  of any broadcast);
- ``dip_depth_sd``: each dip's logit depth is drawn when it starts, normal around
  ``dip_logit`` with this SD, and kept while it lasts (dips already vary in length:
  each lasts another week with chance ``dip_stay``).

The contact probability of a triggered, eligible pair is thus ``contact_probability``
(``drive_propensity`` in a drive week), scaled by depth, or 1 if everyone is called.

Everything is vectorised over students; the only loop is over the ~40 weeks of
the year, because this week's contacts depend on last week's missed work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from engagement.config import SampleConfig
from engagement.vocabulary import mode_of

LEVELS = ((0, 6), (7, 9), (10, 12))
SUBJECTS = ("math", "english", "science", "social", "french", "arts", "phys_ed", "health")
CATEGORIES = ("homework", "quiz", "project", "test")
CATEGORY_SHARES = (0.6, 0.2, 0.1, 0.1)
POINTS = {"homework": 10.0, "quiz": 20.0, "project": 50.0, "test": 100.0}
PERSONAL_MIX = {"phone": 0.70, "meeting": 0.15, "video_call": 0.10, "home_visit": 0.05}
WRITTEN_MIX = {"email": 0.50, "text": 0.20, "portal_message": 0.20, "letter": 0.10}
PARENT_MIX = {"phone": 0.40, "email": 0.40, "meeting": 0.20}
OTHER_PURPOSES = {"positive": 0.4, "behaviour": 0.3, "attendance": 0.2, "academic": 0.1}
PARENT_PURPOSES = {"academic": 0.5, "general": 0.3, "health": 0.2}
DAY = 1_000  # key spacing: days of the year stay below this

GIVEN = (
    "Liam Olivia Noah Emma Ethan Ava Lucas Sophia Mason Chloé Logan Amélia Jacob Zoé "
    "William Léa Benjamin Maëlle Samuel Charlotte Gabriel Élodie Alexandre Florence "
    "Nathan Juliette Thomas Rosalie Félix Béatrice Jérôme Hélène Raphaël Océane Owen "
    "Aiyana Kaya Nakoda Sakima Tala Wapun Aponi Kiona Cheveyo Dakota Hania Isha Arjun "
    "Priya Mohammed Fatima Omar Aisha Wei Mei Hiroshi Yuki Mateo Valentina Santiago "
    "Camila Diego Lucía Jayden Harper Elijah Abigail Wyatt Scarlett Hunter Brooklyn "
    "Kai Nova Rowan Willow ᐊᐧᐋᓯᐢ ᐱᓯᒼ"
).split()
FAMILY = (
    "Tremblay Gagnon Roy Côté Bouchard Gauthier Morin Lavoie Fortin Gagné Ouellet "
    "Pelletier Bélanger Lévesque Bergeron Leblanc Paquette Girard Simard Boucher "
    "Smith Brown Wilson MacDonald Taylor Campbell Anderson Thompson Johnston Robertson "
    "Cardinal Auger Lameman Badger Bird Cutknife Littlechild Morin-Gladue Okemow "
    "Wolfleg Crowchild Bull Nguyen Tran Patel Singh Kaur Chen Wang Li Kim Park Ahmed "
    "Ali Hassan Santos García Rodríguez Martínez Hernández López Müller Schmidt Kowalski "
    "Nowak Olsen Hansen Johansson Lindqvist O'Brien MacLeod Fraser Murphy Kelly "
    "ᒪᐢᑿ ᐃᐢᐱᒥᕽ"
).split()


@dataclass
class Division:
    """The simulated truth: clean canonical tables plus what was planted."""

    config: SampleConfig
    schools: pd.DataFrame
    students: pd.DataFrame  # + given_name, family_name, engagement
    staff: pd.DataFrame
    classes: pd.DataFrame
    enrollments: pd.DataFrame
    assignments: pd.DataFrame
    results: pd.DataFrame
    contacts: pd.DataFrame
    conferences: pd.DataFrame
    broadcasts: pd.DataFrame
    truth: dict = field(default_factory=dict)


def _streams(seed: int, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """One independent generator per part, so changing one part leaves the rest alone."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children, strict=True)}


def _choice(rng: np.random.Generator, mix: dict[str, float], size: int) -> np.ndarray:
    labels = np.array(list(mix), dtype=object)
    return labels[rng.choice(len(labels), size=size, p=np.array(list(mix.values())))]


class Calendar:
    """School days as integer day numbers counted from the Monday of the first week."""

    def __init__(self, config: SampleConfig):
        first = pd.Timestamp(config.first_day)
        self.origin = first - pd.Timedelta(days=first.weekday())
        days = pd.bdate_range(first, config.last_day)
        for start, end in config.breaks:
            days = days[(days < pd.Timestamp(start)) | (days > pd.Timestamp(end))]
        self.days = ((days - self.origin).days).to_numpy(np.int64)
        self.tz = config.timezone
        weeks = self.days // 7
        self.weeks, counts = np.unique(weeks, return_counts=True)
        # Weeks with at least three school days get an assignment in each class.
        self.teaching_weeks = self.weeks[counts >= 3]

    def day_of(self, date: str) -> int:
        return int((pd.Timestamp(date) - self.origin).days)

    def next_school_day(self, day: np.ndarray) -> np.ndarray:
        """The first school day on or after each day (the last one if beyond the year)."""
        pos = np.searchsorted(self.days, day, side="left")
        return self.days[np.minimum(pos, len(self.days) - 1)]

    def random_day_in_week(self, rng, weeks: np.ndarray) -> np.ndarray:
        """A uniformly drawn school day within each given week."""
        lo = np.searchsorted(self.days, weeks * 7, side="left")
        hi = np.searchsorted(self.days, weeks * 7 + 7, side="left")
        return self.days[lo + (rng.random(len(weeks)) * (hi - lo)).astype(np.int64)]

    def timestamps(self, day: np.ndarray, minutes: np.ndarray) -> pd.DatetimeIndex:
        """Local wall-clock times (school hours, so never in a DST gap) made tz-aware."""
        naive = (np.datetime64(self.origin.date(), "m")
                 + day.astype("timedelta64[D]").astype("timedelta64[m]")
                 + np.asarray(minutes, dtype=np.int64).astype("timedelta64[m]"))
        return pd.DatetimeIndex(naive).tz_localize(self.tz)


def _effect_keys(contacts: pd.DataFrame, name: str) -> np.ndarray:
    """Sorted keys (student * DAY + day) of the school's contacts that have an effect of
    this kind: personal ones that reached the family, personal ones that did not
    (``personal_unreached``), or written ones."""
    school = contacts[contacts["initiator"] == "school"]
    personal = school["channel"].map(mode_of).to_numpy() == "personal"
    reached = (school["outcome"] == "reached").to_numpy()
    mask = personal & reached
    if name == "personal_unreached":
        mask = personal & ~reached
    if name == "written_contact":
        mask = ~personal
    return np.sort(school["stu"].to_numpy().astype(np.int64)[mask] * DAY
                   + school["day"].to_numpy()[mask])


def _last_event_within(event_key: np.ndarray, query_key: np.ndarray, window: int) -> np.ndarray:
    """For each query (student*DAY + day), whether an event of that student (sorted keys)
    fell in the ``window`` days before (strictly before the query day)."""
    if len(event_key) == 0:
        return np.zeros(len(query_key), dtype=bool)
    keys = event_key  # sorted
    pos = np.searchsorted(keys, query_key, side="left") - 1
    last = keys[np.maximum(pos, 0)]
    return (pos >= 0) & (last // DAY == query_key // DAY) & (query_key - last <= window)


def _people(config: SampleConfig, rng: np.random.Generator):
    n_schools = max(3, round(config.students / config.students_per_school))
    levels = [LEVELS[i % 3] for i in range(n_schools)]
    schools = pd.DataFrame({
        "school_id": [str(101 + i) for i in range(n_schools)],
        "name": [f"{['Aspen', 'Birch', 'Cedar', 'Douglas', 'Elm', 'Fir'][i % 6]} "
                 f"{['Elementary', 'Junior High', 'High School'][i % 3]}"
                 + (f" {i // 6 + 1}" if i >= 6 else "") for i in range(n_schools)],
        "low_grade": [lo for lo, _ in levels],
        "high_grade": [hi for _, hi in levels],
    })
    school_idx = np.repeat(np.arange(n_schools), np.diff(np.linspace(
        0, config.students, n_schools + 1).round().astype(int)))
    n = config.students
    lo = schools["low_grade"].to_numpy()[school_idx]
    span = schools["high_grade"].to_numpy()[school_idx] - lo + 1
    # Spread grades evenly inside each school.
    order_in_school = pd.Series(school_idx).groupby(school_idx).cumcount().to_numpy()
    size = np.bincount(school_idx)[school_idx]
    grade = lo + (order_in_school * span // size)
    numbers = rng.choice(999_999, size=n, replace=False) + 1
    # Names unique within a school, so a teacher's spreadsheet can be matched.
    pair = np.empty(n, dtype=np.int64)
    for s in range(n_schools):
        where = np.flatnonzero(school_idx == s)
        pair[where] = rng.choice(len(GIVEN) * len(FAMILY), size=len(where), replace=False)
    students = pd.DataFrame({
        "student_id": pd.array([f"{x:06d}" for x in numbers], dtype="str"),
        "school_id": schools["school_id"].to_numpy()[school_idx],
        "grade_level": grade.astype(np.int64),
        "given_name": np.array(GIVEN, dtype=object)[pair // len(FAMILY)],
        "family_name": np.array(FAMILY, dtype=object)[pair % len(FAMILY)],
        "engagement": rng.normal(0.0, config.engagement_sd, n),
        "school_idx": school_idx,
    })
    return schools, students


def _classes(config: SampleConfig, students: pd.DataFrame, rng: np.random.Generator):
    """Sections per school, grade and subject; K-6 homerooms keep one teacher for all."""
    n = len(students)
    k = config.classes_per_student
    subjects = np.array(SUBJECTS[:k], dtype=object)
    stu = np.repeat(np.arange(n), k)
    subj = np.tile(np.arange(k), n)
    elementary = students["grade_level"].to_numpy() <= 6
    group = students["school_id"].astype(str) + "|" + students["grade_level"].astype(str)
    group_size = group.map(group.value_counts()).to_numpy()
    n_sections = np.maximum(1, np.ceil(group_size / config.class_size)).astype(np.int64)
    # A random order per subject (per homeroom in K-6) decides the sections.
    shuffle = rng.random((n, k))
    shuffle[elementary] = shuffle[elementary][:, :1]
    rank = (pd.DataFrame(shuffle).groupby(group.to_numpy()).rank(method="first")
            .to_numpy().astype(np.int64) - 1)
    section = (rank % n_sections[:, None]).ravel()
    frame = pd.DataFrame({
        "stu": stu, "subject": subjects[subj], "section": section,
        "school_id": students["school_id"].to_numpy()[stu],
        "grade_level": students["grade_level"].to_numpy()[stu],
    })
    keys = ["school_id", "grade_level", "subject", "section"]
    classes = frame[keys].drop_duplicates().sort_values(keys, kind="stable").reset_index(drop=True)
    classes["class_id"] = [f"C{i + 1:05d}" for i in range(len(classes))]
    # Teachers: a homeroom teacher per K-6 section; a subject teacher for ~5 sections.
    homeroom = classes["grade_level"] <= 6
    team = np.where(homeroom,
                    classes["school_id"] + "|" + classes["grade_level"].astype(str) + "|"
                    + classes["section"].astype(str),
                    classes["school_id"] + "|" + classes["subject"].astype(str) + "|"
                    + (classes.groupby(["school_id", "subject"]).cumcount() // 5).astype(str))
    codes, _ = pd.factorize(team)
    classes["teacher_id"] = [f"T{c + 1:04d}" for c in codes]
    classes["class_effect"] = rng.normal(0.0, config.class_sd, len(classes))
    enrollments = frame.merge(classes, on=keys, how="left")
    enrollments["cls"] = pd.Index(classes["class_id"]).get_indexer(enrollments["class_id"])
    return classes, enrollments


def _staff(classes: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    staff = classes[["teacher_id", "school_id"]].drop_duplicates("teacher_id")
    staff = staff.reset_index(drop=True)
    titles = np.array(["Ms.", "Mr.", "Mx.", "Mme", "M."], dtype=object)
    staff["given_name"] = np.array(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), len(staff))]
    staff["family_name"] = np.array(FAMILY, dtype=object)[rng.integers(0, len(FAMILY), len(staff))]
    title = titles[rng.integers(0, len(titles), len(staff))]
    staff["display_name"] = title + " " + staff["family_name"]
    return staff


def _assignments(config: SampleConfig, classes: pd.DataFrame, cal: Calendar, rng):
    weeks = cal.teaching_weeks
    n_classes, n_weeks = len(classes), len(weeks)
    lo, hi = config.assignments_per_class
    count = rng.integers(lo, hi + 1, n_classes)
    rank = np.argsort(rng.random((n_classes, n_weeks)), axis=1).argsort(axis=1)
    keep = rank < count[:, None]
    cls, wk = np.nonzero(keep)
    due_day = cal.random_day_in_week(rng, weeks[wk])
    category = np.array(CATEGORIES, dtype=object)[
        rng.choice(len(CATEGORIES), size=len(cls), p=CATEGORY_SHARES)]
    frame = pd.DataFrame({"cls": cls, "due_day": due_day, "category": category})
    frame = frame.sort_values(["cls", "due_day"], kind="stable").reset_index(drop=True)
    frame["number"] = frame.groupby(["cls", "category"]).cumcount() + 1
    frame["assignment_id"] = [f"A{i + 1:06d}" for i in range(len(frame))]
    frame["class_id"] = classes["class_id"].to_numpy()[frame["cls"]]
    frame["school_id"] = classes["school_id"].to_numpy()[frame["cls"]]
    frame["title"] = frame["category"].str.title() + " " + frame["number"].astype(str)
    frame["assigned_day"] = np.maximum(frame["due_day"] - rng.integers(3, 11, len(frame)),
                                       cal.days[0])
    frame["points_possible"] = frame["category"].map(POINTS).astype(float)
    return frame


def _drive_weeks(config, n_schools: int, cal: Calendar, rng) -> np.ndarray:
    """Each school's contact-drive weeks (distinct teaching weeks): a (school, drive)
    array of week numbers, with no columns when there are no drives."""
    k = min(config.drive_weeks, len(cal.teaching_weeks))
    if k <= 0:
        return np.zeros((n_schools, 0), dtype=np.int64)
    order = np.argsort(rng.random((n_schools, len(cal.teaching_weeks))), axis=1)
    return np.sort(cal.teaching_weeks[order[:, :k]], axis=1)


def _broadcasts(config, schools, cal: Calendar, rng, drives: np.ndarray) -> pd.DataFrame:
    parts = []
    monday_days = cal.next_school_day(cal.weeks * 7)
    first_of_month = cal.next_school_day(np.array([
        cal.day_of(d) for d in pd.date_range(config.first_day, config.last_day, freq="MS")
        .union([pd.Timestamp(config.first_day)])]))
    for school in schools["school_id"]:
        social = cal.days[rng.random(len(cal.days)) < 0.4]
        for channel, days, minute in (("sis_bulletin", np.unique(monday_days), 8 * 60),
                                      ("newsletter", np.unique(first_of_month), 12 * 60),
                                      ("social_media", social, 15 * 60 + 30)):
            parts.append(pd.DataFrame({"school_id": school, "day": days,
                                       "minute": minute, "channel": channel}))
    if drives.size:  # a newsletter announcing each contact drive, first thing that week
        parts.append(pd.DataFrame({
            "school_id": np.repeat(schools["school_id"].to_numpy(), drives.shape[1]),
            "day": cal.next_school_day(drives.ravel() * 7), "minute": 7 * 60 + 30,
            "channel": "newsletter"}))
    out = pd.concat(parts, ignore_index=True).sort_values(["day", "school_id", "channel"])
    out = out.reset_index(drop=True)
    out["broadcast_id"] = [f"B{i + 1:05d}" for i in range(len(out))]
    out["audience"] = "school"
    out["audience_id"] = out["school_id"]
    return out


def _spontaneous_contacts(config, students, enrollments, cal: Calendar, rng) -> pd.DataFrame:
    """Contacts that do not depend on missed work: other school reasons, and families
    who reach out themselves (more often the engaged ones)."""
    n = len(students)
    eng = students["engagement"].to_numpy()
    n_school = rng.poisson(config.other_school_contacts, n)
    rate = config.parent_contacts * np.exp(config.parent_engagement_slope * eng
                                           - config.parent_engagement_slope ** 2
                                           * config.engagement_sd ** 2 / 2)
    n_parent = rng.poisson(rate)
    stu = np.concatenate([np.repeat(np.arange(n), n_school), np.repeat(np.arange(n), n_parent)])
    initiator = np.repeat(["school", "parent"], [n_school.sum(), n_parent.sum()]).astype(object)
    m = len(stu)
    day = cal.days[rng.integers(0, len(cal.days), m)]
    school_made = initiator == "school"
    personal = rng.random(m) < config.personal_share
    channel = np.where(personal, _choice(rng, PERSONAL_MIX, m), _choice(rng, WRITTEN_MIX, m))
    channel = np.where(school_made, channel, _choice(rng, PARENT_MIX, m))
    purpose = np.where(school_made, _choice(rng, OTHER_PURPOSES, m),
                       _choice(rng, PARENT_PURPOSES, m))
    first_class = enrollments.groupby("stu")["teacher_id"].first()
    return pd.DataFrame({
        "stu": stu, "day": day, "channel": channel, "initiator": initiator,
        "purpose": purpose, "teacher_id": first_class.to_numpy()[stu], "cls": -1,
    })


def _outcomes(config, channel: np.ndarray, rng, engagement: np.ndarray) -> np.ndarray:
    """Phone calls sometimes reach voicemail or nobody; the rest reach the family (more
    often an engaged one when ``reach_engagement`` is set)."""
    u = rng.random(len(channel))
    phone = channel == "phone"
    reach = config.phone_reached
    cut = config.phone_reached + config.phone_left_message
    if config.reach_engagement:
        reach = expit(logit(config.phone_reached) + config.reach_engagement * engagement)
        message = (config.phone_left_message / (1 - config.phone_reached)
                   if config.phone_reached < 1 else 0.0)
        cut = reach + (1 - reach) * message
    return np.where(phone & (u >= reach),
                    np.where(u < cut, "left_message", "no_answer"), "reached").astype(object)


def _conferences(config, students, enrollments, cal: Calendar, rng) -> pd.DataFrame:
    parts = []
    n = len(students)
    eng = students["engagement"].to_numpy()
    grade = students["grade_level"].to_numpy()
    advisor = enrollments.groupby("stu")["teacher_id"].first().to_numpy()
    for round_no, date in enumerate(config.conference_days, start=1):
        day = cal.next_school_day(np.array([cal.day_of(date)]))[0]
        personal = rng.random(n) < config.personal_invitation_share
        invited_via = np.where(personal, _choice(rng, {"phone": 0.6, "letter": 0.4}, n),
                               _choice(rng, {"sis_bulletin": 0.5, "newsletter": 0.5}, n))
        p_attend = expit(config.attendance_logit + config.attendance_engagement * eng
                         + config.attendance_per_grade * (grade - 6)
                         + config.attendance_personal_invitation * personal)
        u = rng.random(n)
        cancelled = u < config.cancelled_share
        rescheduled = ~cancelled & (u < config.cancelled_share + config.rescheduled_share)
        attended = rng.random(n) < p_attend
        status = np.where(cancelled, "cancelled", np.where(
            rescheduled, "rescheduled", np.where(attended, "attended", "no_show")))
        slot = 15 * 60 + 15 * rng.integers(0, 16, n)
        first = pd.DataFrame({"stu": np.arange(n), "day": day, "minute": slot,
                              "status": status, "invited_via": invited_via,
                              "teacher_id": advisor, "round": round_no, "rescheduled": False})
        # A rescheduled meeting happens a week later, attended or not as drawn.
        again = first[rescheduled].assign(
            day=cal.next_school_day(np.array([day + 7]))[0],
            status=np.where(attended[rescheduled], "attended", "no_show"), rescheduled=True)
        parts += [first, again]
    out = pd.concat(parts, ignore_index=True).sort_values(["day", "minute", "stu"], kind="stable")
    out = out.reset_index(drop=True)
    out["conference_id"] = [f"M{i + 1:06d}" for i in range(len(out))]
    first_id = out[~out["rescheduled"]].set_index(["stu", "round"])["conference_id"]
    key = pd.MultiIndex.from_arrays([out["stu"], out["round"]])
    out["rescheduled_from"] = np.where(out["rescheduled"], first_id.reindex(key).to_numpy(), None)
    three_way = grade[out["stu"]] >= 7
    out["format"] = np.where(three_way, "three_way", "parent_teacher")
    present = out["status"] == "attended"
    out["parent_present"] = present
    out["student_present"] = present & three_way
    return out


def _campaign_target(classes: pd.DataFrame, assignments: pd.DataFrame, cal: Calendar):
    """The teacher with the most sections of one subject at the first junior high,
    and a project due in early February in each of those sections."""
    jh = classes[(classes["grade_level"] >= 7) & (classes["grade_level"] <= 9)]
    teacher = jh.groupby("teacher_id").size().sort_values(ascending=False, kind="stable").index[0]
    sections = np.flatnonzero(classes["teacher_id"].to_numpy() == teacher)
    target_week = cal.day_of("2026-02-02") // 7
    rows = assignments.index[np.isin(assignments["cls"], sections)]
    week = assignments.loc[rows, "due_day"] // 7
    rows = rows[week.to_numpy() == target_week]
    return teacher, rows


def simulate(config: SampleConfig | None = None) -> Division:
    """Run the year. Returns the true, clean tables and the planted truth."""
    config = config or SampleConfig()
    # Streams are appended, never reordered: the first ones stay what they were.
    rng = _streams(config.seed, ("people", "classes", "assignments", "broadcasts",
                                 "contacts", "conferences", "weeks", "results", "campaign",
                                 "dips", "drives"))
    cal = Calendar(config)
    schools, students = _people(config, rng["people"])
    classes, enrollments = _classes(config, students, rng["classes"])
    staff = _staff(classes, rng["classes"])
    assignments = _assignments(config, classes, cal, rng["assignments"])
    drives = _drive_weeks(config, len(schools), cal, rng["drives"])
    broadcasts = _broadcasts(config, schools, cal, rng["broadcasts"], drives)
    conferences = _conferences(config, students, enrollments, cal, rng["conferences"])
    contacts = _spontaneous_contacts(config, students, enrollments, cal, rng["contacts"])
    teacher, project_rows = _campaign_target(classes, assignments, cal)
    assignments.loc[project_rows, ["category", "title", "points_possible"]] = (
        ["project", "Science Fair Project", 50.0])
    is_project_assignment = np.zeros(len(assignments), dtype=bool)
    is_project_assignment[project_rows] = True

    res = _result_rows(enrollments, assignments)
    n_res = len(res)
    stu = res["stu"].to_numpy()
    due = res["due_day"].to_numpy()
    week = due // 7
    eng = students["engagement"].to_numpy()
    base = (config.base_logit + eng[stu]
            + classes["class_effect"].to_numpy()[res["cls"].to_numpy()])
    is_project = is_project_assignment[res["assignment"].to_numpy()]

    weeks = cal.weeks
    r = rng["weeks"]
    dip = np.zeros(len(students), dtype=bool)
    depth = np.full(len(students), float(config.dip_logit))  # of each student's dip
    shock = np.empty((len(weeks), len(students)))
    for i in range(len(weeks)):
        was = dip
        dip = np.where(dip, r.random(len(students)) < config.dip_stay,
                       r.random(len(students)) < config.dip_start)
        if config.dip_depth_sd:  # a new dip draws its own depth, kept while it lasts
            started = dip & ~was
            depth[started] = rng["dips"].normal(config.dip_logit, config.dip_depth_sd,
                                                int(started.sum()))
            shock[i] = np.where(dip, depth, 0.0) + r.normal(0, config.noise_sd, len(students))
        else:
            shock[i] = config.dip_logit * dip + r.normal(0, config.noise_sd, len(students))
    # Completion probability without any effect, computed in place (30M floats at scale).
    p0 = base
    p0 += shock[np.searchsorted(weeks, week), stu]
    expit(p0, out=p0)
    del base

    eff = config.effects
    win = eff.window_days
    query = stu.astype(np.int64) * DAY + due
    conf_attended = conferences.loc[conferences["status"] == "attended"]
    # Broadcasts reach a whole school: key them by school instead of student.
    school_of = students["school_idx"].to_numpy()
    bc_school = pd.Index(students["school_id"].unique()).get_indexer(broadcasts["school_id"])
    active = {
        "conference_attended": _last_event_within(np.sort(
            conf_attended["stu"].to_numpy() * DAY + conf_attended["day"].to_numpy()), query, win),
        "broadcast": _last_event_within(np.sort(
            bc_school * DAY + broadcasts["day"].to_numpy()), school_of[stu] * DAY + due, win),
    }
    active["personal_contact"] = np.zeros(n_res, dtype=bool)
    active["written_contact"] = np.zeros(n_res, dtype=bool)
    size = {"personal_contact": eff.personal_contact, "written_contact": eff.written_contact,
            "conference_attended": eff.conference_attended, "broadcast": eff.broadcast}
    effect_kinds = ["personal_contact", "written_contact"]
    if config.unreached_effect_share:  # only then, so the default sums stay as they were
        active["personal_unreached"] = np.zeros(n_res, dtype=bool)
        size["personal_unreached"] = config.unreached_effect_share * eff.personal_contact
        effect_kinds.append("personal_unreached")

    contacts["outcome"] = _outcomes(config, contacts["channel"].to_numpy(), rng["contacts"],
                                    eng[contacts["stu"].to_numpy()])
    completed = np.zeros(n_res, dtype=bool)
    p_final = np.zeros(n_res)
    u = rng["results"].random(n_res)
    history = np.zeros((len(enrollments), 3), dtype=np.int8)  # missed, last three per class
    res_enrol = res["enrol"].to_numpy()
    teacher_of_class = classes["teacher_id"].to_numpy()
    last_trigger = np.full(len(enrollments), -10_000)
    declined = np.full(len(enrollments), -10_000)  # day an eligible pair was passed over
    drive_keys = np.sort((np.arange(len(schools))[:, None] * DAY + drives).ravel())
    triggered = []
    rc = rng["contacts"]
    # Contact keys (student * DAY + day) of each kind that has an effect, kept sorted.
    events = {name: _effect_keys(contacts, name) for name in effect_kinds}
    # Day by day: a contact made after a due day changes work due from the next day on
    # (a week at a time, a call on Tuesday would wait for next week's work to count).
    bounds = np.flatnonzero(np.diff(due, prepend=-1, append=due[-1] + 1))
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        rows = np.arange(lo, hi)
        for name, keys in events.items():
            active[name][rows] = _last_event_within(keys, query[rows], win)
        if "personal_unreached" in active:  # adds nothing while a reached contact acts
            active["personal_unreached"][rows] &= ~active["personal_contact"][rows]
        total = sum(size[k] * active[k][rows] for k in size)
        p_final[rows] = np.clip(p0[rows] + total, 0.0, 1.0)
        completed[rows] = u[rows] < p_final[rows]
        # Triggers: two of the last three missed in a class, the latest among them.
        regular = rows[~is_project[rows]]
        e = res_enrol[regular]
        history[e] = np.column_stack([history[e, 1:], ~completed[regular]])
        missed = history[e].sum(axis=1)
        eligible = ((missed >= config.trigger_missed) & ~completed[regular]
                    & (due[regular] - last_trigger[e] > config.cooldown_days))
        if config.decline_hold_days:
            eligible &= due[regular] - declined[e] > config.decline_hold_days
        called = eligible & (rc.random(len(regular)) < _contact_probability(
            config, missed, school_of[stu[regular]] * DAY + week[regular], drive_keys))
        if config.decline_hold_days:
            declined[e[eligible & ~called]] = due[regular][eligible & ~called]
        if called.any():
            pick = regular[called]
            last_trigger[res_enrol[pick]] = due[pick]
            n_new = len(pick)
            personal_new = rc.random(n_new) < config.personal_share
            channel = np.where(personal_new, _choice(rc, PERSONAL_MIX, n_new),
                               _choice(rc, WRITTEN_MIX, n_new))
            day = cal.next_school_day(due[pick] + rc.integers(1, 5, n_new))
            new = pd.DataFrame({
                "stu": stu[pick], "day": day, "channel": channel, "initiator": "school",
                "purpose": "missing_work",
                "teacher_id": teacher_of_class[res["cls"].to_numpy()[pick]],
                "cls": res["cls"].to_numpy()[pick],
                "outcome": _outcomes(config, channel, rc, eng[stu[pick]])})
            triggered.append(new)
            events = {name: np.sort(np.concatenate([keys, _effect_keys(new, name)]))
                      for name, keys in events.items()}

    # The project (sections may have it due on different days) is settled once.
    project = np.flatnonzero(is_project)
    completed[project] = _campaign_non_submitters(config, p_final[project], rng["campaign"])
    contacts = pd.concat([contacts] + triggered, ignore_index=True)
    campaign = _run_campaign(config, res, completed, is_project, teacher, cal, rng["campaign"])
    contacts = pd.concat([contacts, campaign["contacts"]], ignore_index=True)
    contacts = contacts[contacts["day"] <= cal.days[-1]]
    contacts = contacts.sort_values(["day", "stu", "channel"], kind="stable").reset_index(drop=True)
    contacts["contact_id"] = [f"K{i + 1:06d}" for i in range(len(contacts))]
    contacts["minute"] = rc.integers(8 * 60, 17 * 60, len(contacts))
    contacts["mode"] = contacts["channel"].map(mode_of)

    results = _finish_results(config, res, completed, campaign, eng, cal, rng["results"],
                              assignments)
    truth = _truth(config, res, results, p0, p_final, active, size, contacts,
                   conferences, campaign)
    return Division(config=config, schools=schools, students=students, staff=staff,
                    classes=classes, enrollments=enrollments, assignments=assignments,
                    results=results, contacts=contacts, conferences=conferences,
                    broadcasts=broadcasts, truth=truth)


def _contact_probability(config, missed: np.ndarray, school_week: np.ndarray,
                         drive_keys: np.ndarray):
    """The chance that a teacher contacts home about an eligible, triggered pair, given
    the work missed among the last three and the pair's school * DAY + week (a scalar
    when no mechanism makes it vary)."""
    if config.everyone_called:
        return 1.0
    p = config.contact_probability
    if len(drive_keys):
        p = np.where(np.isin(school_week, drive_keys), config.drive_propensity, p)
    if config.depth_propensity:
        p = np.clip(p * (1 + config.depth_propensity * (missed - config.trigger_missed)),
                    0.0, 1.0)
    return p


def _campaign_non_submitters(config, p: np.ndarray, rng) -> np.ndarray:
    """Exactly ``campaign_students`` miss the project, the likeliest non-submitters
    most often (weighted sampling without replacement via Gumbel keys)."""
    k = min(config.campaign_students, len(p))
    keys = np.log(np.clip(1 - p, 1e-9, None)) + rng.gumbel(size=len(p))
    missed = np.zeros(len(p), dtype=bool)
    missed[np.argsort(-keys, kind="stable")[:k]] = True
    return ~missed


def _run_campaign(config, res, completed, is_project, teacher, cal: Calendar, rng) -> dict:
    """The teacher phones every family whose child has not handed in the project."""
    rows = np.flatnonzero(is_project & ~completed)
    due = res["due_day"].to_numpy()[rows]
    call_day = cal.next_school_day(due + config.campaign_call_delay_days)
    hand_in = rng.random(len(rows)) < config.campaign_hand_in
    hand_in_day = call_day + rng.integers(1, 7, len(rows))
    contacts = pd.DataFrame({
        "stu": res["stu"].to_numpy()[rows], "day": call_day, "channel": "phone",
        "initiator": "school", "purpose": "missing_work", "teacher_id": teacher,
        "cls": res["cls"].to_numpy()[rows], "outcome": "reached"})
    return {"rows": rows, "hand_in": hand_in, "hand_in_day": hand_in_day,
            "call_day": call_day, "contacts": contacts, "teacher_id": teacher}


def _result_rows(enrollments: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Every enrolled student gets every assignment of the class, as integer columns
    (enrollment row, student, class, assignment row, due day) ordered by due day.

    Built with repeat-and-offset arithmetic instead of a join on string ids: at
    division scale (30M rows) string keys alone would cost gigabytes.
    """
    a_cls = assignments["cls"].to_numpy()  # assignments are sorted by class
    per_class = np.bincount(a_cls, minlength=int(enrollments["cls"].max()) + 1)
    first = np.concatenate([[0], np.cumsum(per_class)[:-1]])
    e_cls = enrollments["cls"].to_numpy()
    reps = per_class[e_cls]
    enrol = np.repeat(np.arange(len(enrollments), dtype=np.int32), reps)
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    assignment = (np.repeat(first[e_cls], reps) + offset).astype(np.int32)
    stu = enrollments["stu"].to_numpy().astype(np.int32)[enrol]
    due = assignments["due_day"].to_numpy().astype(np.int32)[assignment]
    order = np.lexsort((assignment, stu, due))
    return pd.DataFrame({"enrol": enrol[order], "stu": stu[order],
                         "cls": e_cls.astype(np.int32)[enrol[order]],
                         "assignment": assignment[order], "due_day": due[order]})


STATUSES = ("on_time", "late", "missing", "excused")


def _finish_results(config, res, completed, campaign, eng, cal: Calendar, rng,
                    assignments: pd.DataFrame) -> pd.DataFrame:
    """Turn completion draws into what a gradebook holds: status, hand-in time, score.

    Ids and statuses are categoricals: integer codes, not 30M strings."""
    n = len(res)
    due = res["due_day"].to_numpy()
    stu = res["stu"].to_numpy()
    late = completed & (rng.random(n) < config.late_share)
    early = np.maximum(due - rng.integers(0, 3, n), cal.days[0])
    submit_day = np.where(late, due + rng.integers(1, 8, n), early)
    submit_minute = rng.integers(7 * 60, 23 * 60 + 59, n)
    on_time, late_code, missing, excused_code = range(len(STATUSES))
    status = np.where(completed, np.where(late, late_code, on_time), missing).astype(np.int8)
    rows = campaign["rows"][campaign["hand_in"]]
    status[rows] = late_code
    submit_day[rows] = campaign["hand_in_day"][campaign["hand_in"]]
    excused = rng.random(n) < config.excused_share
    status[excused] = excused_code
    handed_in = status <= late_code
    pct = np.clip(rng.normal(0.74 + 0.07 * eng[stu], 0.13), 0.05, 1.0)
    assignment = res["assignment"].to_numpy()
    class_codes, class_ids = pd.factorize(assignments["class_id"])
    return pd.DataFrame({
        "stu": stu, "assignment": assignment,
        "assignment_id": pd.Categorical.from_codes(
            assignment, categories=pd.Index(assignments["assignment_id"], dtype="str")),
        "class_id": pd.Categorical.from_codes(class_codes[assignment],
                                              categories=pd.Index(class_ids, dtype="str")),
        "due_day": due,
        "status": pd.Categorical.from_codes(status, categories=list(STATUSES)),
        "submit_day": np.where(handed_in, submit_day, -1).astype(np.int32),
        "submit_minute": submit_minute.astype(np.int32),
        "score_pct": np.where(handed_in, pct, np.nan),
    })


def _window_rates(results: pd.DataFrame, stu: np.ndarray, day: np.ndarray, window: int):
    """Completion rate of each student's assignments due in the window before and after
    each event day (excused work outside the denominator). Cumulative sums over the
    student-ordered results, so no per-event loop."""
    status = results["status"]
    code = status.cat.codes.to_numpy()
    counted = code != status.cat.categories.get_loc("excused")
    key = results["stu"].to_numpy().astype(np.int64) * DAY + results["due_day"].to_numpy()
    key = key[counted]
    order = np.argsort(key, kind="stable")
    key = key[order]
    handed_in = np.isin(code, [status.cat.categories.get_loc(s) for s in ("on_time", "late")])
    handed_in = handed_in[counted][order]
    done = np.concatenate([[0], np.cumsum(handed_in)])
    base = stu.astype(np.int64) * DAY + day

    def rate(lo, hi):  # due days in [lo, hi)
        a = np.searchsorted(key, lo, side="left")
        b = np.searchsorted(key, hi, side="left")
        n = b - a
        with np.errstate(invalid="ignore", divide="ignore"):
            return (done[b] - done[a]) / n, n

    before, n_before = rate(base - window, base)
    after, n_after = rate(base + 1, base + window + 1)
    return before, after, n_before, n_after


def _per_event(res, observed, realised, events, window: int) -> float | None:
    """Mean over events of the effect realised on the student's counted work due in the
    ``window`` days after: what an estimate per contact (or conference) aims at. It differs
    from the mean over treated assignments because the cap at 100% binds for students
    who were doing well anyway, and they weigh differently in the two averages."""
    if events is None or events.empty:
        return None
    key = res["stu"].to_numpy().astype(np.int64) * DAY + res["due_day"].to_numpy()
    order = np.argsort(key, kind="stable")
    key = key[order]
    effect = np.concatenate([[0], np.cumsum(realised[order] * observed[order])])
    count = np.concatenate([[0], np.cumsum(observed[order])])
    base = events["stu"].to_numpy().astype(np.int64) * DAY + events["day"].to_numpy()
    lo = np.searchsorted(key, base + 1)
    hi = np.searchsorted(key, base + window + 1)
    n = count[hi] - count[lo]
    seen = n > 0
    return float(np.mean((effect[hi] - effect[lo])[seen] / n[seen])) if seen.any() else None


# A decision is a school attempt about missing work with no school contact of the student
# in this many days before: what the estimate's comparison of fresh decisions counts
# (``Design.hold_days``).
DECISION_HOLD_DAYS = 28


def _decisions(contacts: pd.DataFrame) -> pd.DataFrame:
    """The school's contacts about missing work that follow no school contact of the
    student in the ``DECISION_HOLD_DAYS`` before. Counted per event, every attempt
    would count again the effect of an earlier call still acting (the effect does not add
    up), and calls about other things reach students doing well, for whom the cap at 100%
    binds: neither is what a comparison of decisions about falling behind aims at."""
    school = contacts[contacts["initiator"] == "school"]
    mine = school["stu"].to_numpy().astype(np.int64) * DAY + school["day"].to_numpy()
    keys = np.sort(mine)
    earlier = np.searchsorted(keys, mine) - np.searchsorted(keys, mine - DECISION_HOLD_DAYS)
    return school[(earlier == 0) & (school["purpose"] == "missing_work").to_numpy()]


def _truth(config, res, results, p0, p_final, active, size, contacts, conferences,
           campaign) -> dict:
    observed = (results["status"] != "excused").to_numpy()
    effects = {}
    school = contacts[contacts["initiator"] == "school"]
    reached = school["outcome"] == "reached"
    events = {"personal_contact": school[(school["mode"] == "personal") & reached],
              "written_contact": school[school["mode"] == "written"],
              "conference_attended": conferences[conferences["status"] == "attended"]}
    decisions = _decisions(contacts)
    for name, effect in size.items():
        if name == "personal_unreached":  # part of the attempt's effect, below
            continue
        treated = active[name] & observed
        others = sum(size[k] * active[k] for k in size if k != name)
        without = np.clip(p0 + others, 0.0, 1.0)
        realised = np.where(treated, p_final - without, 0.0)
        effects[f"att_{name}"] = {
            "planted_effect": effect,
            "realised_att": float(realised[treated].mean()) if treated.any() else None,
            "realised_per_event": _per_event(res, observed, realised, events.get(name),
                                             config.effects.window_days),
            **({"realised_per_decision": _per_event(
                res, observed, realised, decisions[decisions["mode"] == "written"],
                config.effects.window_days)} if name == "written_contact" else {}),
            "treated_results": int(treated.sum()),
            "treated_students": int(np.unique(res["stu"].to_numpy()[treated]).size),
        }
    # A decision to call, answered or not: the estimand a comparison of decisions aims at
    # (an unanswered call has no effect, or the unreached_effect_share of a reached one's,
    # so it dilutes the reached contact's).
    personal = effects["att_personal_contact"]
    kinds = [k for k in ("personal_contact", "personal_unreached") if k in size]
    treated = np.logical_or.reduce([active[k] for k in kinds]) & observed
    others = sum(size[k] * active[k] for k in size if k not in kinds)
    realised = np.where(treated, p_final - np.clip(p0 + others, 0.0, 1.0), 0.0)
    attempts = contacts[(contacts["initiator"] == "school") & (contacts["mode"] == "personal")]
    effects["att_personal_attempt"] = {
        "planted_effect": personal["planted_effect"],
        "realised_per_event": _per_event(res, observed, realised, attempts,
                                         config.effects.window_days),
        "realised_per_decision": _per_event(res, observed, realised,
                                            decisions[decisions["mode"] == "personal"],
                                            config.effects.window_days),
        "attempts": int(len(attempts)),
    }
    school = contacts[(contacts["initiator"] == "school") & (contacts["mode"] == "personal")
                      & (contacts["outcome"] == "reached")
                      & (contacts["purpose"] == "missing_work")]
    before, after, nb, na = _window_rates(results, school["stu"].to_numpy(),
                                          school["day"].to_numpy(), config.effects.window_days)
    both = (nb > 0) & (na > 0)
    effects["naive_before_after_personal"] = {
        "estimate": float(np.mean(after[both] - before[both])),
        "before": float(np.mean(before[both])), "after": float(np.mean(after[both])),
        "contacts": int(both.sum()),
        "definition": "mean over school-initiated, reached, personal missing-work contacts of "
                      "(completion rate of the student's assignments due in the 21 days after "
                      "the contact day) minus (the same in the 21 days before)",
    }
    camp_rows = campaign["rows"]
    effects["phone_campaign"] = {
        "teacher_id": campaign["teacher_id"],
        "students_called": int(len(camp_rows)),
        "handed_in_within_7_days": int(campaign["hand_in"].sum()),
        "planted_hand_in": config.campaign_hand_in,
    }
    return effects


def canonical_tables(div: Division) -> dict[str, pd.DataFrame]:
    """The simulated truth as the seven canonical tables of the data model: what a
    perfect cleaning of the raw exports would give (names included, notes absent)."""
    cal = Calendar(div.config)
    s = div.students
    sid = s["student_id"].to_numpy()
    students = s[["student_id", "school_id", "grade_level", "given_name", "family_name"]].copy()
    e = div.enrollments
    enrollments = pd.DataFrame({
        "student_id": sid[e["stu"]], "class_id": e["class_id"], "school_id": e["school_id"],
        "teacher_id": e["teacher_id"], "term": "2025-2026", "subject": e["subject"]})
    c = div.contacts
    contacts = pd.DataFrame({
        "contact_id": c["contact_id"], "student_id": sid[c["stu"]],
        "school_id": s["school_id"].to_numpy()[c["stu"]], "staff_id": c["teacher_id"],
        "contact_at": cal.timestamps(c["day"].to_numpy(), c["minute"].to_numpy()),
        "channel": c["channel"], "mode": c["mode"], "initiator": c["initiator"],
        "purpose": c["purpose"], "outcome": c["outcome"]})
    b = div.broadcasts
    broadcasts = pd.DataFrame({
        "broadcast_id": b["broadcast_id"], "school_id": b["school_id"],
        "sent_at": cal.timestamps(b["day"].to_numpy(), b["minute"].to_numpy()),
        "channel": b["channel"], "audience": b["audience"], "audience_id": b["audience_id"]})
    m = div.conferences
    conferences = pd.DataFrame({
        "conference_id": m["conference_id"], "student_id": sid[m["stu"]],
        "school_id": s["school_id"].to_numpy()[m["stu"]], "staff_id": m["teacher_id"],
        "scheduled_at": cal.timestamps(m["day"].to_numpy(), m["minute"].to_numpy()),
        "status": m["status"], "format": m["format"],
        "parent_present": m["parent_present"].astype("boolean"),
        "student_present": m["student_present"].astype("boolean"),
        "rescheduled_from": m["rescheduled_from"].astype("str"),
        "invited_via": m["invited_via"]})
    a = div.assignments
    n_a = len(a)
    assignments = pd.DataFrame({
        "assignment_id": a["assignment_id"], "class_id": a["class_id"],
        "school_id": a["school_id"], "title": a["title"], "category": a["category"],
        "assigned_at": cal.timestamps(a["assigned_day"].to_numpy(), np.full(n_a, 8 * 60)),
        "due_at": cal.timestamps(a["due_day"].to_numpy(), np.full(n_a, 23 * 60 + 59)),
        "points_possible": a["points_possible"].astype(float)})
    r = div.results
    handed_in = r["submit_day"].to_numpy() >= 0
    submitted = cal.timestamps(np.where(handed_in, r["submit_day"], 0), r["submit_minute"])
    points = a["points_possible"].to_numpy()[r["assignment"].to_numpy()]
    results = pd.DataFrame({
        "student_id": sid[r["stu"]], "assignment_id": r["assignment_id"].astype("str"),
        "status": r["status"].astype("str"), "submitted_at": submitted.where(handed_in),
        "score": r["score_pct"].to_numpy() * points,
        "score_pct": r["score_pct"].to_numpy()})
    tables = {"students": students, "enrollments": enrollments, "contacts": contacts,
              "broadcasts": broadcasts, "conferences": conferences,
              "assignments": assignments, "results": results}
    return {name: t.reset_index(drop=True) for name, t in tables.items()}
