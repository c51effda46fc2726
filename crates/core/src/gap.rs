//! The gap of DESIGN.md, in 尺 (chi: product not built) and 寸 (cun: delivered but not yet what the
//! customer really wants). The two units are never carried into each other.

use crate::commitment::Status;
use crate::stage::Stage;

/// A gap in two independent units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Gap {
    /// 尺: how far the product is from what was painted.
    pub chi: u64,
    /// 寸: how far delivered features still are from what the customer wants.
    pub cun: u64,
}

impl Gap {
    /// The gap of one commitment on a feature at `stage`, with `unmet_criteria` criteria not met.
    ///
    /// chi = 4 − rank(stage); cun = unmet criteria + 1 while not delivered; accepted and waived
    /// commitments have no gap.
    pub fn of_commitment(stage: Stage, status: Status, unmet_criteria: u32) -> Gap {
        Gap::of_group(stage, status, 1, u64::from(unmet_criteria))
    }

    /// The gap of `count` commitments sharing a stage and a status whose unmet criteria add up
    /// to `unmet_criteria`. Equal to the sum of [`Gap::of_commitment`] over the group, which lets
    /// storage add up counts instead of loading every commitment.
    pub fn of_group(stage: Stage, status: Status, count: u64, unmet_criteria: u64) -> Gap {
        match status {
            Status::Accepted | Status::Waived => Gap::default(),
            Status::Open | Status::Delivered => Gap {
                chi: count * u64::from(4 - stage.rank()),
                cun: unmet_criteria + if status == Status::Open { count } else { 0 },
            },
        }
    }

    /// Whether nothing is left to close.
    pub fn is_closed(self) -> bool {
        self.chi == 0 && self.cun == 0
    }
}

impl std::ops::Add for Gap {
    type Output = Gap;
    fn add(self, rhs: Gap) -> Gap {
        Gap {
            chi: self.chi + rhs.chi,
            cun: self.cun + rhs.cun,
        }
    }
}

impl std::ops::AddAssign for Gap {
    fn add_assign(&mut self, rhs: Gap) {
        *self = *self + rhs;
    }
}

impl std::iter::Sum for Gap {
    fn sum<I: Iterator<Item = Gap>>(iter: I) -> Gap {
        iter.fold(Gap::default(), |a, b| a + b)
    }
}

impl std::fmt::Display for Gap {
    /// "N 尺 M 寸", the way the dashboard says it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} 尺 {} 寸", self.chi, self.cun)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_example_of_design_md() {
        // Promised on a slide with two criteria, not delivered: 3 尺 3 寸.
        let g = Gap::of_commitment(Stage::Designed, Status::Open, 2);
        assert_eq!(g, Gap { chi: 3, cun: 3 });
        assert_eq!(g.to_string(), "3 尺 3 寸");
        // Released and delivered, one of two criteria met: 0 尺 1 寸.
        let g = Gap::of_commitment(Stage::Released, Status::Delivered, 1);
        assert_eq!(g, Gap { chi: 0, cun: 1 });
    }

    fn stage() -> impl Strategy<Value = Stage> {
        prop::sample::select(Stage::ALL.to_vec())
    }
    fn status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn gap_is_never_negative_and_bounded(st in stage(), s in status(), unmet in 0u32..1000) {
            // u64 cannot be negative; the real check is that the arithmetic never underflows
            // and stays within its bounds.
            let g = Gap::of_commitment(st, s, unmet);
            prop_assert!(g.chi <= 4);
            prop_assert!(g.cun <= u64::from(unmet) + 1);
        }

        #[test]
        fn accepted_and_waived_have_no_gap(st in stage(), unmet in 0u32..1000) {
            prop_assert!(Gap::of_commitment(st, Status::Accepted, unmet).is_closed());
            prop_assert!(Gap::of_commitment(st, Status::Waived, unmet).is_closed());
        }

        #[test]
        fn chi_falls_monotonically_as_the_stage_rises(
            a in stage(), b in stage(), s in prop::sample::select(vec![Status::Open, Status::Delivered]), unmet in 0u32..50
        ) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let g_lo = Gap::of_commitment(lo, s, unmet);
            let g_hi = Gap::of_commitment(hi, s, unmet);
            prop_assert!(g_hi.chi <= g_lo.chi);
            if lo < hi { prop_assert!(g_hi.chi < g_lo.chi); }
            prop_assert_eq!(g_hi.cun, g_lo.cun, "the stage never moves 寸");
        }

        #[test]
        fn delivery_takes_exactly_one_cun(st in stage(), unmet in 0u32..50) {
            let open = Gap::of_commitment(st, Status::Open, unmet);
            let delivered = Gap::of_commitment(st, Status::Delivered, unmet);
            prop_assert_eq!(open.cun, delivered.cun + 1);
            prop_assert_eq!(open.chi, delivered.chi);
        }

        #[test]
        fn a_group_is_the_sum_of_its_members(
            st in stage(), s in status(), unmets in prop::collection::vec(0u32..20, 0..30)
        ) {
            let each: Gap = unmets.iter().map(|&u| Gap::of_commitment(st, s, u)).sum();
            let total: u64 = unmets.iter().map(|&u| u64::from(u)).sum();
            prop_assert_eq!(Gap::of_group(st, s, unmets.len() as u64, total), each);
        }
    }
}
