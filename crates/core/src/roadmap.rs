//! Roadmap priority of a feature: the money and dates that depend on it, and who asks for it,
//! divided by the effort. Every term is returned so that a user can see why a feature ranks where
//! it does.

use chrono::NaiveDate;
use serde::Serialize;

use crate::commitment::Status;
use crate::stage::Stage;
use crate::values::Money;

/// The weights of the score; DESIGN.md's defaults, configurable per workspace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RoadmapWeights {
    /// Share of a deal's value carried by an acceptance-critical commitment (1.0).
    pub critical: f64,
    /// Share carried by a commitment that is not acceptance-critical (0.3).
    pub non_critical: f64,
    /// Urgency of a commitment due today or overdue (2.0).
    pub overdue_urgency: f64,
    /// The horizon in days of `1 + h/(h + days until due)` (30).
    pub horizon_days: f64,
    /// λ: how much contract value one requesting customer weighs (10,000).
    pub lambda: f64,
}

impl Default for RoadmapWeights {
    fn default() -> Self {
        RoadmapWeights {
            critical: 1.0,
            non_critical: 0.3,
            overdue_urgency: 2.0,
            horizon_days: 30.0,
            lambda: 10_000.0,
        }
    }
}

/// One open or delivered commitment on the feature, with what the score needs of its deal.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitmentDemand {
    /// The commitment.
    pub commitment_id: i64,
    /// Its customer.
    pub customer_id: i64,
    /// Its deal, if any.
    pub deal_id: Option<i64>,
    /// The deal's contract value (zero without a deal).
    pub contract_value: Money,
    /// n(d): open or delivered commitments on the deal.
    pub live_on_deal: u32,
    /// Acceptance-critical (验收必须).
    pub critical: bool,
    /// Due date, if any.
    pub due: Option<NaiveDate>,
    /// Its status; only open and delivered count.
    pub status: Status,
}

/// A customer asking for the feature through a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requester {
    /// The customer.
    pub customer_id: i64,
    /// Its name, for the explanation.
    pub name: String,
    /// Its weight (default 1.0).
    pub weight: f64,
}

/// Everything the score of one feature depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureInput {
    /// How real the feature is.
    pub stage: Stage,
    /// Estimated effort in person-days, if known.
    pub effort_days: Option<f64>,
    /// Its open and delivered commitments.
    pub commitments: Vec<CommitmentDemand>,
    /// Distinct customers with a non-declined request linked to it.
    pub requesters: Vec<Requester>,
}

/// The part one commitment plays in the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitmentTerm {
    /// The commitment.
    pub commitment_id: i64,
    /// Its customer.
    pub customer_id: i64,
    /// Its deal.
    pub deal_id: Option<i64>,
    /// The deal's contract value.
    pub contract_value: f64,
    /// 1.0 or 0.3, by acceptance-criticality.
    pub share: f64,
    /// n(d).
    pub live_on_deal: u32,
    /// value(c) = contract value × share / n(d).
    pub value: f64,
    /// Days until due (negative when overdue), if due.
    pub days_until_due: Option<i64>,
    /// urgency(c).
    pub urgency: f64,
    /// value(c) × urgency(c).
    pub weighted: f64,
}

/// The score of a feature and every term of its formula.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreTerms {
    /// One entry per counted commitment.
    pub commitments: Vec<CommitmentTerm>,
    /// Σ value(c) × urgency(c).
    pub value_urgency: f64,
    /// demand(f): Σ of the requesting customers' weights.
    pub demand: f64,
    /// The requesting customers.
    pub requesters: Vec<Requester>,
    /// λ.
    pub lambda: f64,
    /// λ × demand(f).
    pub weighted_demand: f64,
    /// The effort estimate, if any.
    pub effort_days: Option<f64>,
    /// max(effort, 1).
    pub divisor: f64,
    /// True when the feature is released and no commitment on it is open or delivered: nothing
    /// waits on it, its score is 0 and it is not listed. (A delivered commitment still waits for
    /// acceptance, and its money with it.)
    pub released_without_live: bool,
    /// The score.
    pub score: f64,
}

impl RoadmapWeights {
    /// urgency(c): `overdue_urgency` when due today or overdue, `1 + h/(h + days)` before,
    /// 1.0 with no date.
    pub fn urgency(&self, due: Option<NaiveDate>, today: NaiveDate) -> (Option<i64>, f64) {
        match due {
            None => (None, 1.0),
            Some(d) => {
                let days = (d - today).num_days();
                let u = if days <= 0 {
                    self.overdue_urgency
                } else {
                    1.0 + self.horizon_days / (self.horizon_days + days as f64)
                };
                (Some(days), u)
            }
        }
    }

    /// value(c), urgency(c) and the share of one live commitment: the one place where a
    /// commitment's part of the score is worked out, for `score` and `rank_score` alike.
    fn commitment_part(&self, c: &CommitmentDemand, today: NaiveDate) -> CommitmentTerm {
        let share = if c.critical {
            self.critical
        } else {
            self.non_critical
        };
        let value = if c.deal_id.is_none() || c.live_on_deal == 0 {
            0.0
        } else {
            c.contract_value.units() * share / f64::from(c.live_on_deal)
        };
        let (days_until_due, urgency) = self.urgency(c.due, today);
        CommitmentTerm {
            commitment_id: c.commitment_id,
            customer_id: c.customer_id,
            deal_id: c.deal_id,
            contract_value: c.contract_value.units(),
            share,
            live_on_deal: c.live_on_deal,
            value,
            days_until_due,
            urgency,
            weighted: value * urgency,
        }
    }

    /// The last step of the formula, from its sums.
    fn finish(&self, f: &FeatureInput, value_urgency: f64, demand: f64) -> (f64, f64, bool, f64) {
        let weighted_demand = self.lambda * demand;
        let divisor = f.effort_days.unwrap_or(0.0).max(1.0);
        let released_without_live =
            f.stage == Stage::Released && !f.commitments.iter().any(|c| c.status.is_live());
        let score = if released_without_live {
            0.0
        } else {
            (value_urgency + weighted_demand) / divisor
        };
        (weighted_demand, divisor, released_without_live, score)
    }

    /// The score of a feature on `today`, with every term.
    pub fn score(&self, f: &FeatureInput, today: NaiveDate) -> ScoreTerms {
        let commitments: Vec<CommitmentTerm> = f
            .commitments
            .iter()
            .filter(|c| c.status.is_live())
            .map(|c| self.commitment_part(c, today))
            .collect();
        // Folding from +0.0: an empty f64 sum is -0.0, which would print as "-0".
        let value_urgency = commitments.iter().fold(0.0, |a, t| a + t.weighted);
        let demand = f.requesters.iter().fold(0.0, |a, r| a + r.weight);
        let (weighted_demand, divisor, released_without_live, score) =
            self.finish(f, value_urgency, demand);
        ScoreTerms {
            commitments,
            value_urgency,
            demand,
            requesters: f.requesters.clone(),
            lambda: self.lambda,
            weighted_demand,
            effort_days: f.effort_days,
            divisor,
            released_without_live,
            score,
        }
    }

    /// The same score as `score(f, today).score`, bit for bit, without building the
    /// explanation: ranking every feature of a large catalogue needs only the number.
    pub fn rank_score(&self, f: &FeatureInput, today: NaiveDate) -> f64 {
        let value_urgency = f
            .commitments
            .iter()
            .filter(|c| c.status.is_live())
            .fold(0.0, |a, c| a + self.commitment_part(c, today).weighted);
        let demand = f.requesters.iter().fold(0.0, |a, r| a + r.weight);
        self.finish(f, value_urgency, demand).3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn commitment(critical: bool, due: Option<&str>, n: u32) -> CommitmentDemand {
        CommitmentDemand {
            commitment_id: 1,
            customer_id: 1,
            deal_id: Some(1),
            contract_value: Money::from_units(1_000_000.0).unwrap(),
            live_on_deal: n,
            critical,
            due: due.map(day),
            status: Status::Open,
        }
    }

    #[test]
    fn urgency_by_the_formula() {
        let w = RoadmapWeights::default();
        let today = day("2026-11-24");
        assert_eq!(w.urgency(None, today), (None, 1.0));
        assert_eq!(w.urgency(Some(today), today), (Some(0), 2.0));
        assert_eq!(w.urgency(Some(day("2026-11-01")), today).1, 2.0);
        // 30 days ahead: 1 + 30/60 = 1.5.
        assert_eq!(w.urgency(Some(day("2026-12-24")), today), (Some(30), 1.5));
    }

    #[test]
    fn a_worked_example() {
        // One critical commitment on a 1,000,000 deal with 4 live commitments, due in 30 days,
        // two requesting customers (weights 1 and 2), effort 5 days:
        // (1e6 × 1.0 / 4 × 1.5 + 10,000 × 3) / 5 = (375,000 + 30,000) / 5 = 81,000.
        let w = RoadmapWeights::default();
        let f = FeatureInput {
            stage: Stage::Designed,
            effort_days: Some(5.0),
            commitments: vec![commitment(true, Some("2026-12-24"), 4)],
            requesters: vec![
                Requester {
                    customer_id: 2,
                    name: "A".into(),
                    weight: 1.0,
                },
                Requester {
                    customer_id: 3,
                    name: "B".into(),
                    weight: 2.0,
                },
            ],
        };
        let t = w.score(&f, day("2026-11-24"));
        assert_eq!(t.commitments[0].value, 250_000.0);
        assert_eq!(t.commitments[0].urgency, 1.5);
        assert_eq!(t.value_urgency, 375_000.0);
        assert_eq!(t.weighted_demand, 30_000.0);
        assert_eq!(t.divisor, 5.0);
        assert_eq!(t.score, 81_000.0);
    }

    #[test]
    fn non_critical_weighs_three_tenths_and_no_deal_weighs_nothing() {
        let w = RoadmapWeights::default();
        let today = day("2026-11-24");
        let mut c = commitment(false, None, 1);
        let f = |c: CommitmentDemand| FeatureInput {
            stage: Stage::Idea,
            effort_days: None,
            commitments: vec![c],
            requesters: vec![],
        };
        assert_eq!(w.score(&f(c.clone()), today).score, 300_000.0);
        c.deal_id = None;
        assert_eq!(w.score(&f(c), today).score, 0.0);
    }

    #[test]
    fn released_scores_while_a_commitment_waits_for_acceptance() {
        let w = RoadmapWeights::default();
        let today = day("2026-11-24");
        let mut c = commitment(true, None, 1);
        c.status = Status::Delivered;
        let mut f = FeatureInput {
            stage: Stage::Released,
            effort_days: None,
            commitments: vec![c],
            requesters: vec![],
        };
        // Delivered, not accepted: its acceptance money (1,000,000 × 1.0 / 1) still waits on it.
        let t = w.score(&f, today);
        assert!(!t.released_without_live);
        assert_eq!(t.score, 1_000_000.0);
        // Accepted or waived: nothing waits, whatever the demand.
        for status in [Status::Accepted, Status::Waived] {
            f.commitments[0].status = status;
            f.requesters = vec![Requester {
                customer_id: 2,
                name: "A".into(),
                weight: 1.0,
            }];
            let t = w.score(&f, today);
            assert!(t.released_without_live);
            assert_eq!(t.score, 0.0);
        }
        // Not yet released, demand alone scores.
        f.stage = Stage::Built;
        assert_eq!(w.score(&f, today).score, 10_000.0);
    }

    proptest! {
        #[test]
        fn urgency_lies_between_one_and_the_overdue_weight(days in -1000i64..5000) {
            let w = RoadmapWeights::default();
            let today = day("2026-11-24");
            let (_, u) = w.urgency(Some(today + chrono::Duration::days(days)), today);
            prop_assert!((1.0..=2.0).contains(&u));
        }

        #[test]
        fn the_ranking_score_is_the_explained_score(
            parts in proptest::collection::vec(
                (any::<bool>(), -60i64..400, 0u32..6, 0.0f64..5e7, 0u8..4, any::<bool>()), 0..12),
            weights in proptest::collection::vec(0.0f64..5.0, 0..5),
            effort in proptest::option::of(0.0f64..90.0),
            released in any::<bool>(),
        ) {
            let w = RoadmapWeights::default();
            let today = day("2026-11-24");
            let statuses = [Status::Open, Status::Delivered, Status::Accepted, Status::Waived];
            let f = FeatureInput {
                stage: if released { Stage::Released } else { Stage::Designed },
                effort_days: effort,
                commitments: parts
                    .iter()
                    .enumerate()
                    .map(|(i, &(critical, days, n, value, status, dated))| CommitmentDemand {
                        commitment_id: i as i64,
                        customer_id: 1,
                        deal_id: (n > 0).then_some(1),
                        contract_value: Money::from_units(value).unwrap(),
                        live_on_deal: n,
                        critical,
                        due: dated.then(|| today + chrono::Duration::days(days)),
                        status: statuses[usize::from(status)],
                    })
                    .collect(),
                requesters: weights
                    .iter()
                    .enumerate()
                    .map(|(i, &weight)| Requester { customer_id: i as i64, name: String::new(), weight })
                    .collect(),
            };
            prop_assert_eq!(w.rank_score(&f, today).to_bits(), w.score(&f, today).score.to_bits());
        }

        #[test]
        fn more_effort_never_raises_the_score(e1 in 0.0f64..500.0, e2 in 0.0f64..500.0, n in 1u32..20) {
            let w = RoadmapWeights::default();
            let mk = |e: f64| FeatureInput {
                stage: Stage::Built,
                effort_days: Some(e),
                commitments: vec![commitment(true, Some("2027-01-01"), n)],
                requesters: vec![],
            };
            let (lo, hi) = if e1 <= e2 { (e1, e2) } else { (e2, e1) };
            let today = day("2026-11-24");
            prop_assert!(w.score(&mk(hi), today).score <= w.score(&mk(lo), today).score);
        }
    }
}
