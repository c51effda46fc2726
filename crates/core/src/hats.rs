//! Hats: where the product manager's time goes, and the answer to "am I still a product manager?".

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::values::ParseError;

/// A kind of work a PM ends up doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hat {
    /// Product work: discovery, planning, specification.
    Planning,
    /// Supporting an implementation at a customer site.
    Implementation,
    /// Testing what R&D delivered.
    Testing,
    /// Pre-sales: demos, proposals, bids.
    Presales,
    /// Relaying messages between customers, sales, leaders and R&D.
    Relay,
}

impl Hat {
    /// Every hat.
    pub const ALL: [Hat; 5] = [
        Hat::Planning,
        Hat::Implementation,
        Hat::Testing,
        Hat::Presales,
        Hat::Relay,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Hat::Planning => "planning",
            Hat::Implementation => "implementation",
            Hat::Testing => "testing",
            Hat::Presales => "presales",
            Hat::Relay => "relay",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Hat::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| ParseError::one_of("hat", s, &Hat::ALL.map(Hat::as_str)))
    }

    fn index(self) -> usize {
        Hat::ALL.iter().position(|h| *h == self).unwrap_or(0)
    }
}

impl std::fmt::Display for Hat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest accepted entry: one day.
pub const MAX_MINUTES: u32 = 24 * 60;

/// Checks the minutes of one entry.
pub fn check_minutes(minutes: i64) -> Result<u32, ParseError> {
    u32::try_from(minutes)
        .ok()
        .filter(|m| (1..=MAX_MINUTES).contains(m))
        .ok_or_else(|| ParseError::new("minutes", format!("must be between 1 and {MAX_MINUTES}")))
}

/// Time a person spent, as the report sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Spent {
    /// Who.
    pub person: String,
    /// Which day.
    pub date: NaiveDate,
    /// Wearing which hat.
    pub hat: Hat,
    /// How long.
    pub minutes: u32,
}

/// A demo a person attended, counted as pre-sales time.
#[derive(Debug, Clone, PartialEq)]
pub struct Attendance {
    /// Who.
    pub person: String,
    /// Which day.
    pub date: NaiveDate,
    /// How long the demo lasted.
    pub minutes: u32,
}

/// The Monday that starts the ISO week of `d`.
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// Adds demo attendance to hand-entered time without counting anything twice: on a day, a
/// person's pre-sales time is the larger of what they entered by hand and what their demos took,
/// because an entry made by hand on a demo day most likely covers that demo.
pub fn with_attendance(entries: &[Spent], demos: &[Attendance]) -> Vec<Spent> {
    let mut manual: HashMap<(&str, NaiveDate), u32> = HashMap::new();
    for e in entries.iter().filter(|e| e.hat == Hat::Presales) {
        *manual.entry((e.person.as_str(), e.date)).or_default() += e.minutes;
    }
    let mut demo: BTreeMap<(&str, NaiveDate), u32> = BTreeMap::new();
    for a in demos {
        *demo.entry((a.person.as_str(), a.date)).or_default() += a.minutes;
    }
    let mut out = entries.to_vec();
    for ((person, date), minutes) in demo {
        let by_hand = manual.get(&(person, date)).copied().unwrap_or(0);
        if minutes > by_hand {
            out.push(Spent {
                person: person.to_string(),
                date,
                hat: Hat::Presales,
                minutes: minutes - by_hand,
            });
        }
    }
    out
}

/// Minutes per hat in one week, and the shares they make.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekShare {
    /// Monday of the week.
    pub week: NaiveDate,
    /// Minutes per hat, in the order of `Hat::ALL`.
    pub minutes: [u64; 5],
    /// All minutes of the week.
    pub total: u64,
    /// Share per hat (0..=1), in the order of `Hat::ALL`; zeros for an empty week.
    pub shares: [f64; 5],
}

impl WeekShare {
    /// The share of one hat.
    pub fn share(&self, hat: Hat) -> f64 {
        self.shares[hat.index()]
    }
}

/// Weekly shares per hat, one row per week from `from`'s week to `to`'s week (empty weeks too, so
/// that a trend has no holes).
pub fn weekly_shares(spent: &[Spent], from: NaiveDate, to: NaiveDate) -> Vec<WeekShare> {
    let mut weeks: BTreeMap<NaiveDate, [u64; 5]> = BTreeMap::new();
    let mut w = week_start(from);
    while w <= to {
        weeks.insert(w, [0; 5]);
        w += chrono::Duration::days(7);
    }
    for s in spent.iter().filter(|s| s.date >= from && s.date <= to) {
        if let Some(row) = weeks.get_mut(&week_start(s.date)) {
            row[s.hat.index()] += u64::from(s.minutes);
        }
    }
    weeks
        .into_iter()
        .map(|(week, minutes)| {
            let total: u64 = minutes.iter().sum();
            let shares = minutes.map(|m| {
                if total == 0 {
                    0.0
                } else {
                    m as f64 / total as f64
                }
            });
            WeekShare {
                week,
                minutes,
                total,
                shares,
            }
        })
        .collect()
}

/// The answer to "am I still a product manager?".
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Planning takes at least [`PLANNING_HEALTHY`] of the time.
    Yes,
    /// Planning takes less than that but at least [`PLANNING_LOW`].
    Partly,
    /// Planning takes less than [`PLANNING_LOW`]: other hats have taken over.
    No,
    /// Nothing was recorded.
    Unknown,
}

/// A planning share from which a PM is still mainly a PM.
pub const PLANNING_HEALTHY: f64 = 0.5;
/// A planning share under which a PM is no longer one in practice.
pub const PLANNING_LOW: f64 = 0.25;

/// Judges the planning share of a stretch of weeks.
pub fn verdict(weeks: &[WeekShare]) -> (Verdict, f64, Option<Hat>) {
    let mut minutes = [0u64; 5];
    for w in weeks {
        for (i, m) in w.minutes.iter().enumerate() {
            minutes[i] += m;
        }
    }
    let total: u64 = minutes.iter().sum();
    if total == 0 {
        return (Verdict::Unknown, 0.0, None);
    }
    let planning = minutes[Hat::Planning.index()] as f64 / total as f64;
    let top = Hat::ALL
        .into_iter()
        .max_by_key(|h| (minutes[h.index()], std::cmp::Reverse(h.index())));
    let v = if planning >= PLANNING_HEALTHY {
        Verdict::Yes
    } else if planning >= PLANNING_LOW {
        Verdict::Partly
    } else {
        Verdict::No
    };
    (v, planning, top)
}

/// One person's (or the team's) weeks and verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonReport {
    /// The person; empty for the team.
    pub person: String,
    /// One row per week.
    pub weeks: Vec<WeekShare>,
    /// Planning share per week (the trend), `None` for a week with nothing recorded.
    pub planning_trend: Vec<Option<f64>>,
    /// The answer over the last [`VERDICT_WEEKS`] weeks.
    pub verdict: Verdict,
    /// Planning share over those weeks.
    pub planning_share: f64,
    /// The hat that took the most time over those weeks.
    pub top_hat: Option<Hat>,
}

/// How many recent weeks the verdict looks at.
pub const VERDICT_WEEKS: usize = 4;

fn person_report(person: String, spent: &[Spent], from: NaiveDate, to: NaiveDate) -> PersonReport {
    let weeks = weekly_shares(spent, from, to);
    let recent = &weeks[weeks.len().saturating_sub(VERDICT_WEEKS)..];
    let (verdict, planning_share, top_hat) = verdict(recent);
    PersonReport {
        person,
        planning_trend: weeks
            .iter()
            .map(|w| (w.total > 0).then(|| w.share(Hat::Planning)))
            .collect(),
        weeks,
        verdict,
        planning_share,
        top_hat,
    }
}

/// The report per person and for the team over the weeks from `from` to `to`.
pub fn report(
    spent: &[Spent],
    from: NaiveDate,
    to: NaiveDate,
) -> (Vec<PersonReport>, PersonReport) {
    let mut people: BTreeMap<&str, Vec<Spent>> = BTreeMap::new();
    for s in spent {
        people.entry(s.person.as_str()).or_default().push(s.clone());
    }
    let each = people
        .into_iter()
        .map(|(p, list)| person_report(p.to_string(), &list, from, to))
        .collect();
    (each, person_report(String::new(), spent, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn spent(person: &str, date: &str, hat: Hat, minutes: u32) -> Spent {
        Spent {
            person: person.into(),
            date: day(date),
            hat,
            minutes,
        }
    }

    #[test]
    fn demo_time_is_not_counted_twice() {
        let entries = vec![
            spent("王芳", "2026-11-23", Hat::Presales, 60),
            spent("王芳", "2026-11-23", Hat::Planning, 120),
        ];
        let demos = vec![
            Attendance {
                person: "王芳".into(),
                date: day("2026-11-23"),
                minutes: 90,
            },
            Attendance {
                person: "王芳".into(),
                date: day("2026-11-24"),
                minutes: 45,
            },
        ];
        let all = with_attendance(&entries, &demos);
        let presales: u32 = all
            .iter()
            .filter(|s| s.hat == Hat::Presales)
            .map(|s| s.minutes)
            .sum();
        // Monday: max(60 by hand, 90 demo) = 90; Tuesday: 45 from the demo alone.
        assert_eq!(presales, 90 + 45);
        // More by hand than the demo took: the demo adds nothing.
        let all = with_attendance(
            &[spent("王芳", "2026-11-23", Hat::Presales, 200)],
            &demos[..1],
        );
        assert_eq!(all.len(), 1);
    }

    #[test]
    fn weeks_start_on_monday_and_have_no_holes() {
        assert_eq!(week_start(day("2026-11-29")), day("2026-11-23"));
        assert_eq!(week_start(day("2026-11-23")), day("2026-11-23"));
        let w = weekly_shares(
            &[
                spent("a", "2026-11-02", Hat::Planning, 60),
                spent("a", "2026-11-20", Hat::Relay, 180),
            ],
            day("2026-11-02"),
            day("2026-11-22"),
        );
        assert_eq!(w.len(), 3);
        assert_eq!(w[1].total, 0);
        assert_eq!(w[1].shares, [0.0; 5]);
        assert_eq!(w[2].share(Hat::Relay), 1.0);
    }

    #[test]
    fn the_verdict() {
        let w = |planning: u64, other: u64| WeekShare {
            week: day("2026-11-23"),
            minutes: [planning, other, 0, 0, 0],
            total: planning + other,
            shares: [0.0; 5],
        };
        assert_eq!(verdict(&[w(300, 100)]).0, Verdict::Yes);
        assert_eq!(verdict(&[w(100, 200)]).0, Verdict::Partly);
        let (v, share, top) = verdict(&[w(30, 270)]);
        assert_eq!((v, top), (Verdict::No, Some(Hat::Implementation)));
        assert!((share - 0.1).abs() < 1e-9);
        assert_eq!(verdict(&[]).0, Verdict::Unknown);
    }

    #[test]
    fn a_report_per_person_and_for_the_team() {
        let spent = vec![
            spent("pm@x", "2026-11-02", Hat::Planning, 600),
            spent("pm@x", "2026-11-23", Hat::Implementation, 900),
            spent("pm@x", "2026-11-24", Hat::Planning, 60),
            spent("pre@x", "2026-11-24", Hat::Presales, 120),
        ];
        let (people, team) = report(&spent, day("2026-11-02"), day("2026-11-29"));
        assert_eq!(people.len(), 2);
        let pm = people.iter().find(|p| p.person == "pm@x").unwrap();
        assert_eq!(pm.weeks.len(), 4);
        assert_eq!(
            pm.planning_trend,
            vec![Some(1.0), None, None, Some(60.0 / 960.0)]
        );
        // Last four weeks: 660 planning of 1560.
        assert_eq!(pm.verdict, Verdict::Partly);
        assert_eq!(team.weeks[3].total, 1080);
        assert_eq!(team.top_hat, Some(Hat::Implementation));
    }

    #[test]
    fn minutes_are_bounded() {
        assert_eq!(check_minutes(30).unwrap(), 30);
        assert!(check_minutes(0).is_err());
        assert!(check_minutes(-5).is_err());
        assert!(check_minutes(24 * 60 + 1).is_err());
        for h in Hat::ALL {
            assert_eq!(Hat::parse(h.as_str()).unwrap(), h);
        }
    }

    proptest! {
        #[test]
        fn shares_of_a_week_add_up_to_one(entries in prop::collection::vec((0usize..5, 1u32..600, 0i64..7), 1..40)) {
            let base = day("2026-11-23");
            let spent: Vec<Spent> = entries.iter().map(|(h, m, d)| Spent {
                person: "p".into(), date: base + chrono::Duration::days(*d), hat: Hat::ALL[*h], minutes: *m,
            }).collect();
            let w = weekly_shares(&spent, base, base + chrono::Duration::days(6));
            prop_assert_eq!(w.len(), 1);
            let sum: f64 = w[0].shares.iter().sum();
            prop_assert!((sum - 1.0).abs() < 1e-9);
            prop_assert_eq!(w[0].total, entries.iter().map(|e| u64::from(e.1)).sum::<u64>());
        }

        #[test]
        fn attendance_never_lowers_and_never_doubles(by_hand in 0u32..600, demo in 0u32..600) {
            let d = day("2026-11-23");
            let entries = if by_hand > 0 { vec![Spent { person: "p".into(), date: d, hat: Hat::Presales, minutes: by_hand }] } else { vec![] };
            let all = with_attendance(&entries, &[Attendance { person: "p".into(), date: d, minutes: demo }]);
            let total: u32 = all.iter().map(|s| s.minutes).sum();
            prop_assert_eq!(total, by_hand.max(demo));
        }
    }
}
