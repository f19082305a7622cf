"""Published findings as data, checked against the records.

A findings file (TOML) holds claims like "at school 102, completion rose by at least 10
points within three weeks of a phone call". ``check`` recomputes each claim with the same
analyses as the report and judges it: reproduced, not reproduced, or not estimable (with
the reason). The rules are in ``judge``; the file format is in ``FORMAT``.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engagement.estimate import ESTIMANDS as ESTIMAND_NAMES
from engagement.estimate.inference import _mean_ci
from engagement.metrics import result_flags
from engagement.privacy import count_text
from engagement.results import Results

ESTIMANDS = tuple(ESTIMAND_NAMES)
FORMAT = """\
Each claim is a [[claim]] table with:
  id        a short name (required)
  text      the claim in words, as published (required)
  estimand  one of ESTIMANDS_LIST
   or metric  completion (% of counted work completed, mean over students) or
            conference_attendance (% of invited families who came; needs invitation =
            "personal" or "broadcast")
  scope     "division" or a school id (default "division"); grade = N narrows a metric
  subgroup  for an estimand: "all" (default), "baseline below median" or
            "baseline above median"
and exactly one statement of what was found:
  value = V (with tolerance = T, default 0): the true value is V give or take T
  at_least = V / at_most = V (tolerance = T allowed): the value is at least / at most V
  direction = "positive" | "negative" | "none": a clear increase, a clear decrease, or
            no clear association (with tolerance = T: no larger than T either way)
""".replace("ESTIMANDS_LIST", ",\n            ".join(ESTIMANDS))
METRICS = ("completion", "conference_attendance")
STATEMENTS = ("value", "at_least", "at_most", "direction")
INVITATIONS = {"personal": "personal (call or note)",
               "broadcast": "broadcast (bulletin, newsletter)"}


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    what: str  # an estimand or a metric
    scope: str = "division"
    grade: int | None = None
    subgroup: str = "all"
    invitation: str | None = None
    statement: str = "direction"
    value: float | str = "positive"
    tolerance: float = 0.0

    def claimed(self) -> str:
        """The statement, as a person would write it."""
        t = f" ± {self.tolerance:g}" if self.tolerance else ""
        if self.statement == "direction":
            return f"{self.value}{t}"
        sign = {"value": "", "at_least": "≥ ", "at_most": "≤ "}[self.statement]
        return f"{sign}{self.value:g}{t}"


def read_findings(path: str | Path) -> list[Claim]:
    """The claims of a findings file; a ``ValueError`` names the claim and the fix."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"findings file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path.name} is not valid TOML ({err})") from None
    claims = data.get("claim")
    if not claims:
        raise ValueError(f"{path.name} has no [[claim]] tables.\n{FORMAT}")
    return [_claim(path.name, i, c) for i, c in enumerate(claims, start=1)]


def _claim(file: str, number: int, c: dict) -> Claim:
    where = f"{file}, claim {c.get('id', number)!r}"
    known = {"id", "text", "estimand", "metric", "scope", "grade", "subgroup", "invitation",
             "tolerance", *STATEMENTS}
    if unknown := sorted(set(c) - known):
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}.\n{FORMAT}")
    for key in ("id", "text"):
        if key not in c:
            raise ValueError(f"{where}: '{key}' is missing.\n{FORMAT}")
    what = c.get("estimand", c.get("metric"))
    if ("estimand" in c) == ("metric" in c) or what not in ESTIMANDS + METRICS:
        raise ValueError(f"{where}: give one estimand ({', '.join(ESTIMANDS)}) or one metric "
                         f"({', '.join(METRICS)}); found {what!r}")
    stated = [s for s in STATEMENTS if s in c]
    if len(stated) != 1:
        raise ValueError(f"{where}: give exactly one of value, at_least, at_most, direction; "
                         f"found {', '.join(stated) or 'none'}")
    statement = stated[0]
    value = c[statement]
    if statement == "direction" and value not in ("positive", "negative", "none"):
        raise ValueError(f"{where}: direction must be \"positive\", \"negative\" or \"none\"; "
                         f"found {value!r}")
    if statement != "direction" and not isinstance(value, int | float):
        raise ValueError(f"{where}: {statement} must be a number; found {value!r}")
    invitation = c.get("invitation")
    if what == "conference_attendance" and invitation not in INVITATIONS:
        raise ValueError(f"{where}: conference_attendance needs invitation = \"personal\" or "
                         f"\"broadcast\"; found {invitation!r}")
    return Claim(id=str(c["id"]), text=c["text"], what=what, scope=str(c.get("scope",
                 "division")), grade=c.get("grade"), subgroup=c.get("subgroup", "all"),
                 invitation=invitation, statement=statement, value=value,
                 tolerance=float(c.get("tolerance", 0.0)))


def recompute(claim: Claim, results: Results, tables: dict[str, pd.DataFrame]) -> dict:
    """The claim's quantity from the data: ``estimate, ci_low, ci_high, n`` or a
    ``reason`` it cannot be estimated."""
    if claim.what in ESTIMANDS:
        if claim.grade is not None:
            return {"reason": "effects are estimated for the division and each school, "
                              "not for a grade"}
        e = results.effects
        row = e[(e["estimand"] == claim.what) & (e["scope"].astype(str) == claim.scope)
                & (e["subgroup"] == claim.subgroup)]
        if row.empty:
            return {"reason": f"no estimate for scope {claim.scope!r} and subgroup "
                              f"{claim.subgroup!r} (is the school id right?)"}
        r = row.iloc[0]
        if pd.isna(r["estimate"]):
            why = (f"fewer than {results.k} students (suppressed)" if r.get("suppressed")
                   else r["method"])
            return {"reason": why}
        return {"estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                "n": int(r["n_treated"])}
    if claim.what == "completion":
        return _completion(claim, tables, results)
    return _attendance(claim, results)


def _completion(claim: Claim, tables: dict[str, pd.DataFrame], results: Results) -> dict:
    flags = result_flags(tables["results"], tables["assignments"])
    counted = flags[flags["counted"]]
    rate = counted.groupby("student_id", observed=True)["completed"].mean()
    students = tables["students"].set_index("student_id")
    keep = pd.Series(True, index=students.index)
    if claim.scope != "division":
        keep &= students["school_id"].astype(str) == claim.scope
    if claim.grade is not None:
        keep &= students["grade_level"].eq(claim.grade).fillna(False).astype(bool)
    rate = rate[rate.index.isin(students.index[keep])]
    if len(rate) < results.k:
        return {"reason": f"{len(rate)} students with work in scope: fewer than {results.k}"}
    mean, low, high = _mean_ci(rate, results.design.confidence)
    return {"estimate": 100 * mean, "ci_low": 100 * low, "ci_high": 100 * high,
            "n": len(rate)}


def _attendance(claim: Claim, results: Results) -> dict:
    inv = results.invitations
    inv = inv[inv["invitation"] == INVITATIONS[claim.invitation]]
    if claim.grade is not None:
        inv = inv[(inv["level"] == "school_id x grade_level x invitation")
                  & (inv["grade_level"] == claim.grade)]
    elif claim.scope != "division":
        inv = inv[inv["level"] == "school_id x invitation"]
    else:
        inv = inv[inv["level"] == "invitation"]
    if claim.scope != "division":
        inv = inv[inv["school_id"].astype(str) == claim.scope]
    if inv.empty:
        return {"reason": f"no invitations recorded for scope {claim.scope!r}"}
    r = inv.iloc[0]
    if pd.isna(r["estimate"]):
        return {"reason": f"fewer than {results.k} families (suppressed)"}
    return {"estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
            "n": int(r["n"])}


def judge(claim: Claim, found: dict) -> tuple[str, str]:
    """The verdict and why, from the recomputed estimate and its interval.

    - ``value``: reproduced when the claimed value lies inside the interval widened by the
      tolerance.
    - ``at_least`` / ``at_most``: reproduced when the estimate meets the bound (give or
      take the tolerance) and, for a bound claiming a change (beyond 0), the interval
      excludes no change.
    - ``direction``: positive / negative need the interval wholly above / below 0; "none"
      needs 0 inside the interval (and, with a tolerance, the interval inside ± it).
    """
    if "reason" in found:
        return "not estimable", found["reason"]
    est, low, high, t = found["estimate"], found["ci_low"], found["ci_high"], claim.tolerance
    v = claim.value
    if claim.statement == "value":
        ok = low - t <= v <= high + t
        why = f"{v:g} is {'inside' if ok else 'outside'} the interval" + (
            f" widened by {t:g}" if t else "")
    elif claim.statement in ("at_least", "at_most"):
        sign = 1 if claim.statement == "at_least" else -1
        meets = sign * (est - v) >= -t
        clear = not (sign * v > 0 and (low <= 0 <= high))
        ok = meets and clear
        why = (f"the estimate {est:.1f} {'meets' if meets else 'does not meet'} the bound"
               + ("" if clear else ", and the interval includes no change"))
    else:
        if v == "positive":
            ok, why = low > 0, "the interval is " + ("above 0" if low > 0 else "not above 0")
        elif v == "negative":
            ok, why = high < 0, "the interval is " + ("below 0" if high < 0 else "not below 0")
        else:
            ok = low <= 0 <= high and (not t or (low >= -t and high <= t))
            why = ("the interval includes 0" if low <= 0 <= high
                   else "the interval excludes 0") + (f" and lies within ± {t:g}" if t and ok
                                                      else "")
    return ("reproduced" if ok else "not reproduced"), why


def check(claims: list[Claim], results: Results, tables: dict[str, pd.DataFrame]
          ) -> pd.DataFrame:
    """One row per claim: what was claimed, what the data give (with interval and n), the
    verdict and why."""
    rows = []
    for claim in claims:
        found = recompute(claim, results, tables)
        verdict, why = judge(claim, found)
        if verdict == "not reproduced" and claim.what == "att_personal_contact":
            why += _naive_hint(claim, results)
        est = found.get("estimate", math.nan)
        rows.append({"id": claim.id, "claim": claim.text, "claimed": claim.claimed(),
                     "estimate": est, "ci_low": found.get("ci_low", math.nan),
                     "ci_high": found.get("ci_high", math.nan), "n": found.get("n"),
                     "verdict": verdict, "why": why})
    return pd.DataFrame(rows).astype({"n": "Int64"})


def _naive_hint(claim: Claim, results: Results) -> str:
    """Published effects of calls home are often before/after figures: say so when the
    claim matches the naive one."""
    e = results.effects
    naive = e[(e["estimand"] == "naive_before_after_personal")
              & (e["scope"].astype(str) == claim.scope) & (e["subgroup"] == claim.subgroup)]
    if naive.empty or claim.statement != "value" or pd.isna(naive["estimate"].iloc[0]):
        return ""
    r = naive.iloc[0]
    if r["ci_low"] - claim.tolerance <= claim.value <= r["ci_high"] + claim.tolerance:
        return (f"; it matches the naive before/after ({r['estimate']:.1f}), which has no "
                "comparison group and counts the rebound after a bad week")
    return ""


def format_check(table: pd.DataFrame, confidence: float = 0.95) -> str:
    """The verdicts as plain text for a terminal or a CI log."""
    lines = []
    for r in table.itertuples():
        found = ("—" if pd.isna(r.estimate) else
                 f"{r.estimate:.1f} [{r.ci_low:.1f}, {r.ci_high:.1f}], n = {count_text(r.n)}")
        lines.append(f"{r.verdict.upper():<15} {r.id}: claimed {r.claimed}; recomputed "
                     f"{found} ({confidence:.0%} CI); {r.why}.\n{'':16}{r.claim}")
    counts = table["verdict"].value_counts()
    lines.append(", ".join(f"{n} {v}" for v, n in counts.items()))
    return "\n".join(lines)
