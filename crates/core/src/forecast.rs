//! When will a deal be accepted? A Monte Carlo forecast from the team's own recent throughput
//! (DESIGN.md, "Acceptance documents and forecast"): the work left is the deal's commitments not
//! yet delivered plus its unmet criteria; a week of the past (sampled with replacement) closes
//! units across every open deal, and the deal gets its share of them.

use chrono::{Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Runs per forecast.
pub const RUNS: usize = 10_000;
/// A run that has not finished after ten years stops there: the team closes almost nothing.
pub const MAX_WEEKS: u32 = 520;

/// What a forecast needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastInput {
    /// The deal's open units: commitments not yet delivered plus unmet criteria.
    pub deal_units: u32,
    /// The open units of every deal of the workspace, the deal's among them.
    pub all_units: u32,
    /// Units closed in each of the last weeks (8 to 12 of them): a delivery or a met criterion
    /// is one unit.
    pub weekly_closed: Vec<u32>,
    /// The day the forecast counts from.
    pub start: NaiveDate,
    /// The seed: the same input and seed give the same dates.
    pub seed: u64,
}

/// The forecast dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forecast {
    /// Half of the runs are done by this date.
    pub p50: NaiveDate,
    /// 85 % of the runs are done by this date.
    pub p85: NaiveDate,
}

/// A deal's forecast against its acceptance date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outlook {
    /// P85 on or before the acceptance date.
    OnTrack,
    /// P50 on or before it, P85 after.
    AtRisk,
    /// P50 after it.
    Late,
}

impl Outlook {
    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outlook::OnTrack => "on_track",
            Outlook::AtRisk => "at_risk",
            Outlook::Late => "late",
        }
    }

    /// Where a forecast stands to an acceptance date.
    pub fn of(forecast: Forecast, acceptance: NaiveDate) -> Outlook {
        if forecast.p85 <= acceptance {
            Outlook::OnTrack
        } else if forecast.p50 <= acceptance {
            Outlook::AtRisk
        } else {
            Outlook::Late
        }
    }
}

/// The forecast of a deal, or `None` when the history cannot say: no past weeks, or no unit
/// closed in any of them (then every date would be a guess).
pub fn forecast(input: &ForecastInput) -> Option<Forecast> {
    if input.deal_units == 0 {
        return Some(Forecast {
            p50: input.start,
            p85: input.start,
        });
    }
    if input.weekly_closed.iter().all(|w| *w == 0) {
        return None;
    }
    let share = f64::from(input.deal_units) / f64::from(input.all_units.max(input.deal_units));
    let need = f64::from(input.deal_units);
    let mut rng = StdRng::seed_from_u64(input.seed);
    let weeks = &input.weekly_closed;
    let mut finished: Vec<u32> = (0..RUNS)
        .map(|_| {
            let mut done = 0.0;
            let mut n = 0;
            while done < need && n < MAX_WEEKS {
                done += f64::from(weeks[rng.random_range(0..weeks.len())]) * share;
                n += 1;
            }
            n
        })
        .collect();
    finished.sort_unstable();
    let at = |p: f64| {
        let i = ((p * RUNS as f64).ceil() as usize).clamp(1, RUNS) - 1;
        input
            .start
            .checked_add_days(Days::new(u64::from(finished[i]) * 7))
            .unwrap_or(NaiveDate::MAX)
    };
    Some(Forecast {
        p50: at(0.50),
        p85: at(0.85),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input(deal: u32, all: u32, weeks: &[u32]) -> ForecastInput {
        ForecastInput {
            deal_units: deal,
            all_units: all,
            weekly_closed: weeks.to_vec(),
            start: day("2026-12-07"),
            seed: 7,
        }
    }

    #[test]
    fn a_steady_team_gives_one_date() {
        // 10 units a week, the deal is half of the open work: 5 a week for 20 units = 4 weeks.
        let f = forecast(&input(20, 40, &[10; 10])).unwrap();
        assert_eq!(f.p50, day("2027-01-04"));
        assert_eq!(f.p85, day("2027-01-04"));
        assert_eq!(Outlook::of(f, day("2027-01-04")), Outlook::OnTrack);
        assert_eq!(Outlook::of(f, day("2027-01-03")), Outlook::Late);
    }

    #[test]
    fn an_uneven_team_spreads_the_dates_and_the_seed_fixes_them() {
        let weeks = [0, 2, 12, 3, 0, 9, 1, 15, 4, 6];
        let a = forecast(&input(30, 60, &weeks)).unwrap();
        let b = forecast(&input(30, 60, &weeks)).unwrap();
        assert_eq!(a, b, "same seed, same dates");
        assert!(a.p50 < a.p85, "{a:?}");
        // Mean 5.2 a week, half of it for this deal: about 11.5 weeks at the median.
        let median_weeks = (a.p50 - day("2026-12-07")).num_weeks();
        assert!((10..=14).contains(&median_weeks), "{median_weeks}");
        assert_eq!(Outlook::of(a, a.p50), Outlook::AtRisk);
        assert_eq!(Outlook::of(a, a.p85), Outlook::OnTrack);
        let other = forecast(&ForecastInput {
            seed: 8,
            ..input(30, 60, &weeks)
        })
        .unwrap();
        // Another seed moves the dates by a week at most.
        assert!((other.p50 - a.p50).num_days().abs() <= 7);
    }

    #[test]
    fn nothing_left_is_done_today_and_no_history_is_no_forecast() {
        let f = forecast(&input(0, 10, &[])).unwrap();
        assert_eq!(f.p50, day("2026-12-07"));
        assert_eq!(forecast(&input(5, 10, &[0, 0, 0])), None);
        assert_eq!(forecast(&input(5, 10, &[])), None);
        // A team that almost never closes anything stops at ten years.
        let slow = forecast(&input(1_000, 1_000, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 1])).unwrap();
        assert_eq!(
            slow.p85,
            day("2026-12-07") + Days::new(u64::from(MAX_WEEKS) * 7)
        );
    }
}
