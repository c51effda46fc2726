//! Payment milestones and the money that acceptance holds back (DESIGN.md, "Payment milestones
//! and blocked money"). A typical contract pays 30 % on signing, 60 % after go-live acceptance
//! and 10 % after the warranty year; each payment waits for an event and for the commitments it
//! depends on to be accepted.

use crate::commitment::Status;
use crate::values::{Money, ParseError};

/// What a milestone waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MilestoneEvent {
    /// 合同签订: the contract is signed.
    Signing,
    /// 上线: the system goes live.
    GoLive,
    /// 初验 / 上线验收: preliminary acceptance.
    PreliminaryAcceptance,
    /// 终验: final acceptance.
    FinalAcceptance,
    /// 质保期满: the end of the warranty.
    WarrantyEnd,
    /// A date agreed in the contract.
    Date,
}

/// Where a milestone's money stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MilestoneStatus {
    /// Its event has not come.
    Waiting,
    /// Its event has come: it can be invoiced.
    Due,
    /// Invoiced, not yet paid.
    Invoiced,
    /// Paid.
    Paid,
}

impl MilestoneEvent {
    /// Every event, in the order a contract runs through them.
    pub const ALL: [MilestoneEvent; 6] = [
        MilestoneEvent::Signing,
        MilestoneEvent::GoLive,
        MilestoneEvent::PreliminaryAcceptance,
        MilestoneEvent::FinalAcceptance,
        MilestoneEvent::WarrantyEnd,
        MilestoneEvent::Date,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            MilestoneEvent::Signing => "signing",
            MilestoneEvent::GoLive => "go_live",
            MilestoneEvent::PreliminaryAcceptance => "preliminary_acceptance",
            MilestoneEvent::FinalAcceptance => "final_acceptance",
            MilestoneEvent::WarrantyEnd => "warranty_end",
            MilestoneEvent::Date => "date",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| ParseError::one_of("event", s, &Self::ALL.map(Self::as_str)))
    }

    /// The usual name of the payment that waits for this event (首付款, 上线款…), for a new
    /// milestone's name field.
    pub fn usual_name_zh(self) -> &'static str {
        match self {
            MilestoneEvent::Signing => "首付款",
            MilestoneEvent::GoLive => "上线款",
            MilestoneEvent::PreliminaryAcceptance => "初验款",
            MilestoneEvent::FinalAcceptance => "验收款",
            MilestoneEvent::WarrantyEnd => "质保金",
            MilestoneEvent::Date => "进度款",
        }
    }
}

impl MilestoneStatus {
    /// Every status, in order.
    pub const ALL: [MilestoneStatus; 4] = [
        MilestoneStatus::Waiting,
        MilestoneStatus::Due,
        MilestoneStatus::Invoiced,
        MilestoneStatus::Paid,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            MilestoneStatus::Waiting => "waiting",
            MilestoneStatus::Due => "due",
            MilestoneStatus::Invoiced => "invoiced",
            MilestoneStatus::Paid => "paid",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| ParseError::one_of("status", s, &Self::ALL.map(Self::as_str)))
    }
}

/// Why a deal's milestones are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MilestoneError {
    /// The amounts do not add up to the contract value.
    #[error(
        "the milestones add up to {sum} but the contract is worth {contract} / 各期款项合计 {sum}，与合同金额 {contract} 不符"
    )]
    Sum {
        /// What the milestones add up to, in units.
        sum: String,
        /// The contract value, in units.
        contract: String,
    },
    /// The shares do not add up to 100 %.
    #[error("the shares add up to {0} %, not 100 % / 各期比例合计 {0}%，应为 100%")]
    Shares(String),
}

fn units(m: Money) -> String {
    format!("{:.2}", m.units())
}

/// The amounts of shares of a contract, shares in hundredths of a percent (30 % = 3000), which
/// must add up to 100 %. Each amount is rounded down to the cent and the last takes what the
/// rounding left, so that the amounts add up to the contract exactly.
pub fn amounts_from_shares(contract: Money, shares: &[u32]) -> Result<Vec<Money>, MilestoneError> {
    let total: u64 = shares.iter().map(|s| u64::from(*s)).sum();
    if total != 10_000 {
        return Err(MilestoneError::Shares(format!(
            "{:.2}",
            total as f64 / 100.0
        )));
    }
    let cents = i128::from(contract.cents());
    let mut out: Vec<Money> = shares
        .iter()
        .map(|s| Money::from_cents((cents * i128::from(*s) / 10_000) as i64))
        .collect();
    let given: i64 = out.iter().map(|m| m.cents()).sum();
    if let Some(last) = out.last_mut() {
        *last = Money::from_cents(last.cents() + (contract.cents() - given));
    }
    Ok(out)
}

/// Checks that milestone amounts add up to the contract value.
pub fn check_amounts(contract: Money, amounts: &[Money]) -> Result<(), MilestoneError> {
    let sum: i64 = amounts.iter().map(|m| m.cents()).sum();
    if sum == contract.cents() {
        Ok(())
    } else {
        Err(MilestoneError::Sum {
            sum: units(Money::from_cents(sum)),
            contract: units(contract),
        })
    }
}

/// A milestone is released when every commitment it depends on is accepted or waived (one that
/// depends on none, such as the payment on signing, is released from the start).
pub fn is_released(depends_on: &[Status]) -> bool {
    depends_on
        .iter()
        .all(|s| matches!(s, Status::Accepted | Status::Waived))
}

/// The money a milestone holds back: all of it while it is unpaid and not released.
pub fn blocked(amount: Money, status: MilestoneStatus, depends_on: &[Status]) -> Money {
    if status == MilestoneStatus::Paid || is_released(depends_on) {
        Money::from_cents(0)
    } else {
        amount
    }
}

/// One milestone as the roadmap's value term sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneDemand {
    /// Its amount.
    pub amount: Money,
    /// Its status.
    pub status: MilestoneStatus,
    /// The commitments it depends on, with their status, as (commitment id, status).
    pub depends_on: Vec<(i64, Status)>,
}

/// The optional roadmap value of a commitment (in units): over the unpaid, unreleased milestones
/// that depend on it, each milestone's amount shared equally among the commitments it still waits
/// for (those neither accepted nor waived).
pub fn blocked_value(commitment_id: i64, milestones: &[MilestoneDemand]) -> f64 {
    milestones
        .iter()
        .filter(|m| m.status != MilestoneStatus::Paid)
        .filter(|m| m.depends_on.iter().any(|(id, _)| *id == commitment_id))
        .filter_map(|m| {
            let statuses: Vec<Status> = m.depends_on.iter().map(|(_, s)| *s).collect();
            if is_released(&statuses) {
                return None;
            }
            let live = statuses
                .iter()
                .filter(|s| !matches!(s, Status::Accepted | Status::Waived))
                .count();
            let waits_on_this = m.depends_on.iter().any(|(id, s)| {
                *id == commitment_id && !matches!(s, Status::Accepted | Status::Waived)
            });
            waits_on_this.then(|| m.amount.units() / live as f64)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn yuan(n: i64) -> Money {
        Money::from_cents(n * 100)
    }

    #[test]
    fn thirty_sixty_ten_of_a_contract() {
        let amounts = amounts_from_shares(yuan(1_000_000), &[3000, 6000, 1000]).unwrap();
        assert_eq!(amounts, [yuan(300_000), yuan(600_000), yuan(100_000)]);
        assert!(check_amounts(yuan(1_000_000), &amounts).is_ok());
        // A third each of 100.00: the last takes the cent the rounding left.
        let thirds = amounts_from_shares(yuan(100), &[3333, 3333, 3334]).unwrap();
        assert_eq!(thirds.iter().map(|m| m.cents()).sum::<i64>(), 10_000);
        let err = amounts_from_shares(yuan(100), &[3000, 6000]).unwrap_err();
        assert!(err.to_string().contains("90.00"), "{err}");
        let err = check_amounts(yuan(100), &[yuan(30), yuan(60)]).unwrap_err();
        assert!(err.to_string().contains("90.00") && err.to_string().contains("100.00"));
    }

    #[test]
    fn money_is_released_by_acceptance_and_held_until_then() {
        use Status::*;
        assert!(is_released(&[]));
        assert!(is_released(&[Accepted, Waived]));
        assert!(!is_released(&[Accepted, Delivered]));
        assert_eq!(
            blocked(yuan(600), MilestoneStatus::Due, &[Accepted, Open]),
            yuan(600)
        );
        assert_eq!(
            blocked(yuan(600), MilestoneStatus::Due, &[Accepted]),
            yuan(0)
        );
        assert_eq!(blocked(yuan(600), MilestoneStatus::Paid, &[Open]), yuan(0));
    }

    #[test]
    fn the_value_of_a_commitment_is_its_share_of_the_money_it_holds() {
        use Status::*;
        let milestones = [
            MilestoneDemand {
                amount: yuan(600),
                status: MilestoneStatus::Waiting,
                depends_on: vec![(1, Open), (2, Delivered), (3, Accepted)],
            },
            MilestoneDemand {
                amount: yuan(100),
                status: MilestoneStatus::Paid,
                depends_on: vec![(1, Open)],
            },
            MilestoneDemand {
                amount: yuan(300),
                status: MilestoneStatus::Due,
                depends_on: vec![(1, Open)],
            },
        ];
        // 600 shared by the two commitments it waits for, plus all of the 300.
        assert_eq!(blocked_value(1, &milestones), 600.0);
        assert_eq!(blocked_value(2, &milestones), 300.0);
        assert_eq!(
            blocked_value(3, &milestones),
            0.0,
            "accepted: holds nothing"
        );
        assert_eq!(blocked_value(9, &milestones), 0.0);
    }

    fn status() -> impl Strategy<Value = Status> {
        prop_oneof![
            Just(Status::Open),
            Just(Status::Delivered),
            Just(Status::Accepted),
            Just(Status::Waived)
        ]
    }

    fn milestone_status() -> impl Strategy<Value = MilestoneStatus> {
        prop_oneof![
            Just(MilestoneStatus::Waiting),
            Just(MilestoneStatus::Due),
            Just(MilestoneStatus::Invoiced),
            Just(MilestoneStatus::Paid)
        ]
    }

    proptest! {
        #[test]
        fn blocked_money_never_exceeds_the_contract(
            contract in 0i64..1_000_000_000_000,
            raw in prop::collection::vec(1u32..100, 1..6),
            deals in prop::collection::vec(
                (milestone_status(), prop::collection::vec(status(), 0..5)), 6),
        ) {
            // Shares that add up to 100 %.
            let total: u32 = raw.iter().sum();
            let mut shares: Vec<u32> = raw.iter().map(|r| r * 10_000 / total).collect();
            let rest = 10_000 - shares.iter().sum::<u32>();
            *shares.last_mut().unwrap() += rest;
            let contract = Money::from_cents(contract);
            let amounts = amounts_from_shares(contract, &shares).unwrap();
            prop_assert!(check_amounts(contract, &amounts).is_ok());
            let held: i64 = amounts
                .iter()
                .zip(&deals)
                .map(|(a, (st, deps))| blocked(*a, *st, deps).cents())
                .sum();
            prop_assert!(held <= contract.cents());
            prop_assert!(amounts.iter().all(|a| a.cents() >= 0));
        }

        #[test]
        fn a_milestone_is_released_exactly_when_its_commitments_are_accepted(
            deps in prop::collection::vec(status(), 0..8),
            st in milestone_status(),
        ) {
            let all_done = deps.iter().all(|s| matches!(s, Status::Accepted | Status::Waived));
            prop_assert_eq!(is_released(&deps), all_done);
            let b = blocked(Money::from_cents(500), st, &deps);
            prop_assert_eq!(b.cents() == 0, all_done || st == MilestoneStatus::Paid);
        }
    }
}
