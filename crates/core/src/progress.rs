//! Progress: the gap over time, kept as daily snapshots, and how much of it a week closed.
//!
//! A snapshot is a customer's gap at the end of a day; the gap on any day is the last snapshot on
//! or before it. Before its first snapshot a customer counts as having no gap: its history starts
//! when cunjin starts keeping it.

use chrono::{Datelike, Days, NaiveDate};

use crate::gap::Gap;

/// The Monday of the week of `day` (weeks start on Monday, as in China and ISO 8601).
pub fn week_start(day: NaiveDate) -> NaiveDate {
    let back = u64::from(day.weekday().num_days_from_monday());
    day.checked_sub_days(Days::new(back)).unwrap_or(day)
}

/// The gap on `day` from one customer's snapshots sorted by day: the last one on or before it.
pub fn gap_on(snapshots: &[(NaiveDate, Gap)], day: NaiveDate) -> Gap {
    let after = snapshots.partition_point(|(d, _)| *d <= day);
    after
        .checked_sub(1)
        .map(|i| snapshots[i].1)
        .unwrap_or_default()
}

/// One value per day from `from` to `to` (both included) from one customer's snapshots sorted by
/// day. Empty when `to` is before `from`.
pub fn daily(snapshots: &[(NaiveDate, Gap)], from: NaiveDate, to: NaiveDate) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut i = snapshots.partition_point(|(d, _)| *d < from);
    let mut current = i.checked_sub(1).map(|j| snapshots[j].1).unwrap_or_default();
    for day in from.iter_days().take_while(|d| *d <= to) {
        while i < snapshots.len() && snapshots[i].0 <= day {
            current = snapshots[i].1;
            i += 1;
        }
        out.push(current);
    }
    out
}

/// Totals per day from `from` to `to` (both included) out of the day-by-day changes of many
/// customers' snapshots, sorted by day: each change is a snapshot minus the same customer's
/// previous one (or minus zero for its first), summed per day. A day's total is every change on
/// or before it, which equals the sum over customers of [`gap_on`] while letting the database
/// add up the changes instead of sending every snapshot.
pub fn accumulate(changes: &[(NaiveDate, i64, i64)], from: NaiveDate, to: NaiveDate) -> Vec<Gap> {
    let mut out = Vec::new();
    let (mut chi, mut cun) = (0i64, 0i64);
    let mut i = 0;
    for day in from.iter_days().take_while(|d| *d <= to) {
        while i < changes.len() && changes[i].0 <= day {
            chi += changes[i].1;
            cun += changes[i].2;
            i += 1;
        }
        out.push(Gap {
            chi: chi.max(0) as u64,
            cun: cun.max(0) as u64,
        });
    }
    out
}

/// How much of the gap was closed between two moments; negative when it grew (new promises).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Gained {
    /// 尺 closed.
    pub chi: i64,
    /// 寸 closed.
    pub cun: i64,
}

impl Gained {
    /// The gap `before` minus the gap `now`.
    pub fn between(before: Gap, now: Gap) -> Gained {
        let diff = |a: u64, b: u64| {
            i64::try_from(a).unwrap_or(i64::MAX) - i64::try_from(b).unwrap_or(i64::MAX)
        };
        Gained {
            chi: diff(before.chi, now.chi),
            cun: diff(before.cun, now.cun),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn g(chi: u64, cun: u64) -> Gap {
        Gap { chi, cun }
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-24 is a Tuesday.
        assert_eq!(week_start(d("2026-11-24")), d("2026-11-23"));
        assert_eq!(week_start(d("2026-11-23")), d("2026-11-23"));
        assert_eq!(week_start(d("2026-11-29")), d("2026-11-23"));
    }

    #[test]
    fn the_gap_on_a_day_is_the_last_snapshot_on_or_before_it() {
        let s = [(d("2026-11-02"), g(9, 5)), (d("2026-11-10"), g(6, 4))];
        assert_eq!(
            gap_on(&s, d("2026-11-01")),
            g(0, 0),
            "before the history starts"
        );
        assert_eq!(gap_on(&s, d("2026-11-02")), g(9, 5));
        assert_eq!(gap_on(&s, d("2026-11-09")), g(9, 5));
        assert_eq!(gap_on(&s, d("2026-11-10")), g(6, 4));
        assert_eq!(gap_on(&s, d("2027-01-01")), g(6, 4));
        assert_eq!(
            daily(&s, d("2026-11-09"), d("2026-11-11")),
            vec![g(9, 5), g(6, 4), g(6, 4)]
        );
        assert!(daily(&s, d("2026-11-11"), d("2026-11-09")).is_empty());
    }

    #[test]
    fn gained_is_before_minus_now() {
        assert_eq!(
            Gained::between(g(12, 9), g(9, 10)),
            Gained { chi: 3, cun: -1 }
        );
    }

    proptest! {
        #[test]
        fn accumulated_changes_equal_the_sum_of_every_customers_days(
            customers in prop::collection::vec(
                prop::collection::btree_map(0u64..40, (0u64..20, 0u64..20), 0..8), 0..6),
            from in 0u64..45, len in 0u64..20,
        ) {
            let base = d("2026-01-01");
            let from = base + Days::new(from);
            let to = from + Days::new(len);
            let mut expected = vec![Gap::default(); len as usize + 1];
            let mut per_day: std::collections::BTreeMap<NaiveDate, (i64, i64)> = Default::default();
            for snaps in &customers {
                let s: Vec<(NaiveDate, Gap)> = snaps
                    .iter()
                    .map(|(k, (c, u))| (base + Days::new(*k), g(*c, *u)))
                    .collect();
                for (e, v) in expected.iter_mut().zip(daily(&s, from, to)) {
                    *e += v;
                }
                let mut prev = Gap::default();
                for (day, v) in &s {
                    let e = per_day.entry(*day).or_default();
                    e.0 += v.chi as i64 - prev.chi as i64;
                    e.1 += v.cun as i64 - prev.cun as i64;
                    prev = *v;
                }
            }
            let changes: Vec<(NaiveDate, i64, i64)> =
                per_day.into_iter().map(|(day, (c, u))| (day, c, u)).collect();
            prop_assert_eq!(accumulate(&changes, from, to), expected);
        }

        #[test]
        fn daily_agrees_with_gap_on(
            days in prop::collection::btree_map(0u64..60, (0u64..20, 0u64..20), 0..10),
            from in 0u64..70, len in 0u64..30,
        ) {
            let base = d("2026-01-01");
            let s: Vec<(NaiveDate, Gap)> = days
                .iter()
                .map(|(k, (c, u))| (base + Days::new(*k), g(*c, *u)))
                .collect();
            let from = base + Days::new(from);
            let to = from + Days::new(len);
            let series = daily(&s, from, to);
            prop_assert_eq!(series.len() as u64, len + 1);
            for (i, v) in series.iter().enumerate() {
                prop_assert_eq!(*v, gap_on(&s, from + Days::new(i as u64)));
            }
        }
    }
}
