//! The life of a commitment (承诺): open → delivered → accepted, or waived.

use crate::values::ParseError;

/// Acceptance criteria one commitment may carry, on every path (API, form, import): a real
/// acceptance checks a requirement against a handful of criteria, and the cap keeps one
/// commitment from growing without bound.
pub const MAX_CRITERIA: usize = 100;

/// Refuses a commitment that would carry more than [`MAX_CRITERIA`] criteria.
pub fn check_criteria_count(count: usize) -> Result<(), ParseError> {
    if count > MAX_CRITERIA {
        return Err(ParseError::new(
            "criteria",
            format!(
                "a commitment carries at most {MAX_CRITERIA} acceptance criteria ({count} given) \
                 / 一条承诺最多 {MAX_CRITERIA} 条验收标准（现有 {count} 条）"
            ),
        ));
    }
    Ok(())
}

/// Where a commitment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Promised, not yet deployed at the customer.
    Open,
    /// Deployed at the customer, not yet signed off.
    Delivered,
    /// Signed off by the customer (验收).
    Accepted,
    /// Renegotiated or dropped, with a reason.
    Waived,
}

/// Why a status change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The commitment already has that status.
    #[error("the commitment is already {0}")]
    Unchanged(Status),
    /// The rules of DESIGN.md do not allow this step.
    #[error("a commitment cannot go from {from} to {to}")]
    NotAllowed {
        /// Current status.
        from: Status,
        /// Requested status.
        to: Status,
    },
    /// Waiving, reopening and reinstating need a reason for the audit trail.
    #[error("going from {from} to {to} needs a reason")]
    ReasonRequired {
        /// Current status.
        from: Status,
        /// Requested status.
        to: Status,
    },
    /// Only a feature that works in the product can be deployed at a customer.
    #[error(
        "the feature is only at stage {0}: it must be built or released before it is delivered"
    )]
    NotBuilt(crate::stage::Stage),
    /// Sign-off needs every acceptance criterion met.
    #[error("{unmet} acceptance criteria are not met yet")]
    CriteriaUnmet {
        /// How many criteria are still unmet.
        unmet: u32,
    },
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Delivered,
        Status::Accepted,
        Status::Waived,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Delivered => "delivered",
            Status::Accepted => "accepted",
            Status::Waived => "waived",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| ParseError::one_of("status", s, &Status::ALL.map(Status::as_str)))
    }

    /// Whether the commitment still counts in the gap and the roadmap (open or delivered).
    pub fn is_live(self) -> bool {
        matches!(self, Status::Open | Status::Delivered)
    }

    /// Checks one step of the life of a commitment.
    ///
    /// Allowed: open → delivered; delivered → accepted (every criterion met); open or delivered →
    /// waived (reason); delivered → open, a delivery rolled back (reason); waived → open, a waiver
    /// withdrawn (reason). Acceptance is final: the customer has signed.
    pub fn transition(
        self,
        to: Status,
        reason: Option<&str>,
        unmet_criteria: u32,
    ) -> Result<Status, TransitionError> {
        use Status::*;
        if self == to {
            return Err(TransitionError::Unchanged(self));
        }
        let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
        match (self, to) {
            (Open, Delivered) => Ok(to),
            (Delivered, Accepted) if unmet_criteria > 0 => Err(TransitionError::CriteriaUnmet {
                unmet: unmet_criteria,
            }),
            (Delivered, Accepted) => Ok(to),
            (Open | Delivered, Waived) | (Delivered, Open) | (Waived, Open) => {
                if has_reason {
                    Ok(to)
                } else {
                    Err(TransitionError::ReasonRequired { from: self, to })
                }
            }
            _ => Err(TransitionError::NotAllowed { from: self, to }),
        }
    }
}

/// Checks that a commitment on a feature at `stage` can be marked delivered: delivered means
/// deployed at the customer, which needs a feature that works (built or released).
pub fn check_deliverable(stage: crate::stage::Stage) -> Result<(), TransitionError> {
    if stage.works() {
        Ok(())
    } else {
        Err(TransitionError::NotBuilt(stage))
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn the_happy_path_needs_no_reason() {
        assert_eq!(Open.transition(Delivered, None, 2), Ok(Delivered));
        assert_eq!(Delivered.transition(Accepted, None, 0), Ok(Accepted));
    }

    #[test]
    fn sign_off_waits_for_every_criterion() {
        assert_eq!(
            Delivered.transition(Accepted, Some("ok"), 1),
            Err(TransitionError::CriteriaUnmet { unmet: 1 })
        );
    }

    #[test]
    fn waiving_needs_a_reason() {
        assert!(matches!(
            Open.transition(Waived, Some("  "), 0),
            Err(TransitionError::ReasonRequired { .. })
        ));
        assert_eq!(
            Open.transition(Waived, Some("客户同意改为二期"), 0),
            Ok(Waived)
        );
        assert_eq!(Waived.transition(Open, Some("reinstated"), 0), Ok(Open));
        assert_eq!(Delivered.transition(Open, Some("rolled back"), 0), Ok(Open));
    }

    #[test]
    fn only_working_features_are_delivered() {
        use crate::stage::Stage;
        assert!(check_deliverable(Stage::Built).is_ok());
        assert!(check_deliverable(Stage::Released).is_ok());
        for s in [Stage::Idea, Stage::Designed, Stage::Stubbed] {
            assert_eq!(check_deliverable(s), Err(TransitionError::NotBuilt(s)));
        }
    }

    #[test]
    fn forbidden_steps() {
        assert!(matches!(
            Open.transition(Accepted, None, 0),
            Err(TransitionError::NotAllowed { .. })
        ));
        assert!(matches!(
            Accepted.transition(Open, Some("x"), 0),
            Err(TransitionError::NotAllowed { .. })
        ));
        assert_eq!(
            Open.transition(Open, None, 0),
            Err(TransitionError::Unchanged(Open))
        );
    }
}
