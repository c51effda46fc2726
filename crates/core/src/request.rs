//! Requests (需求) from every role, and the decisions a product manager makes on them.

use crate::values::ParseError;

/// Who a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceRole {
    /// The customer itself (hospital staff, the information department…).
    Customer,
    /// An implementation consultant on site.
    Implementation,
    /// Research and development.
    Rnd,
    /// Sales.
    Sales,
    /// Pre-sales.
    Presales,
    /// Leadership.
    Leadership,
    /// Product management.
    Product,
}

impl SourceRole {
    /// Every source role.
    pub const ALL: [SourceRole; 7] = [
        SourceRole::Customer,
        SourceRole::Implementation,
        SourceRole::Rnd,
        SourceRole::Sales,
        SourceRole::Presales,
        SourceRole::Leadership,
        SourceRole::Product,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceRole::Customer => "customer",
            SourceRole::Implementation => "implementation",
            SourceRole::Rnd => "rnd",
            SourceRole::Sales => "sales",
            SourceRole::Presales => "presales",
            SourceRole::Leadership => "leadership",
            SourceRole::Product => "product",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        SourceRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ParseError::one_of("source_role", s, &SourceRole::ALL.map(SourceRole::as_str))
            })
    }
}

/// What was decided on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Not looked at yet.
    New,
    /// Will be built: linked to a feature, maybe with a planned release.
    Accepted,
    /// Not now.
    Deferred,
    /// Will not be built; the reason is shown to the requester.
    Declined,
    /// The same need as another request, which carries its demand.
    Duplicate,
    /// The requester must say more.
    NeedsInfo,
}

impl Decision {
    /// Every decision.
    pub const ALL: [Decision; 6] = [
        Decision::New,
        Decision::Accepted,
        Decision::Deferred,
        Decision::Declined,
        Decision::Duplicate,
        Decision::NeedsInfo,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::New => "new",
            Decision::Accepted => "accepted",
            Decision::Deferred => "deferred",
            Decision::Declined => "declined",
            Decision::Duplicate => "duplicate",
            Decision::NeedsInfo => "needs_info",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| ParseError::one_of("decision", s, &Decision::ALL.map(Decision::as_str)))
    }

    /// Whether a request with this decision adds demand to its own feature: every decision but
    /// declined, and duplicate (whose demand counts for its original instead).
    pub fn counts_as_demand(self) -> bool {
        !matches!(self, Decision::Declined | Decision::Duplicate)
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for SourceRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a decision was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// `new` is where a request starts, not a decision.
    #[error("a decision is one of accepted, deferred, declined, duplicate, needs_info; not new")]
    NotADecision,
    /// Accepting links the request to the feature that will meet it.
    #[error(
        "accepting a request needs a feature: give feature_id, or feature_title to create one"
    )]
    FeatureRequired,
    /// A declined requester is owed an explanation.
    #[error("declining a request needs a reason; the requester reads it")]
    ReasonRequired,
    /// A duplicate names the request it repeats.
    #[error("a duplicate needs duplicate_of, the id of the original request")]
    OriginalRequired,
    /// A request cannot repeat itself.
    #[error("a request cannot be a duplicate of itself")]
    SelfDuplicate,
    /// The original is (a duplicate of) this request: demand would go round in circles.
    #[error("request {original} is already a duplicate of this one; that would be a cycle")]
    Cycle {
        /// The original that was named.
        original: i64,
    },
    /// Only a duplicate has an original.
    #[error("duplicate_of only goes with the decision duplicate")]
    OriginalWithoutDuplicate,
}

/// A decision as asked for, checked against the request it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput<'a> {
    /// The request.
    pub request_id: i64,
    /// The decision.
    pub to: Decision,
    /// The reason given, if any.
    pub reason: Option<&'a str>,
    /// Whether the request is (or will be, with this decision) linked to a feature.
    pub has_feature: bool,
    /// For a duplicate: the original named, and the request that original is itself a duplicate
    /// of, if it is one.
    pub original: Option<(i64, Option<i64>)>,
}

/// The original a duplicate's demand moves to, after a decision is checked; `None` for every
/// other decision.
///
/// Originals are kept one step deep: naming a duplicate as the original points at its own
/// original, so demand never runs along a chain and a cycle can only be a request pointing at
/// itself, which is refused.
pub fn check_decision(input: &DecisionInput<'_>) -> Result<Option<i64>, DecisionError> {
    let has_reason = input.reason.is_some_and(|r| !r.trim().is_empty());
    match input.to {
        Decision::New => Err(DecisionError::NotADecision),
        Decision::Duplicate => {
            let (original, its_original) = input.original.ok_or(DecisionError::OriginalRequired)?;
            if original == input.request_id {
                return Err(DecisionError::SelfDuplicate);
            }
            let root = its_original.unwrap_or(original);
            if root == input.request_id {
                return Err(DecisionError::Cycle { original });
            }
            Ok(Some(root))
        }
        _ if input.original.is_some() => Err(DecisionError::OriginalWithoutDuplicate),
        Decision::Accepted if !input.has_feature => Err(DecisionError::FeatureRequired),
        Decision::Declined if !has_reason => Err(DecisionError::ReasonRequired),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(to: Decision) -> DecisionInput<'static> {
        DecisionInput {
            request_id: 7,
            to,
            reason: None,
            has_feature: false,
            original: None,
        }
    }

    #[test]
    fn names_round_trip() {
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.as_str()), Ok(d));
        }
        for r in SourceRole::ALL {
            assert_eq!(SourceRole::parse(r.as_str()), Ok(r));
        }
        assert!(Decision::parse("maybe").is_err());
        assert!(SourceRole::parse("doctor")
            .unwrap_err()
            .to_string()
            .contains("customer"));
    }

    #[test]
    fn accepting_needs_a_feature() {
        assert_eq!(
            check_decision(&input(Decision::Accepted)),
            Err(DecisionError::FeatureRequired)
        );
        let ok = DecisionInput {
            has_feature: true,
            ..input(Decision::Accepted)
        };
        assert_eq!(check_decision(&ok), Ok(None));
    }

    #[test]
    fn declining_needs_a_reason() {
        let blank = DecisionInput {
            reason: Some("  "),
            ..input(Decision::Declined)
        };
        assert_eq!(check_decision(&blank), Err(DecisionError::ReasonRequired));
        let ok = DecisionInput {
            reason: Some("与国家医保接口规范冲突"),
            ..input(Decision::Declined)
        };
        assert_eq!(check_decision(&ok), Ok(None));
    }

    #[test]
    fn deferring_and_asking_need_nothing_more() {
        assert_eq!(check_decision(&input(Decision::Deferred)), Ok(None));
        assert_eq!(check_decision(&input(Decision::NeedsInfo)), Ok(None));
        assert_eq!(
            check_decision(&input(Decision::New)),
            Err(DecisionError::NotADecision)
        );
    }

    #[test]
    fn a_duplicate_points_at_the_root_original_and_never_at_itself() {
        let dup = |original| DecisionInput {
            original,
            ..input(Decision::Duplicate)
        };
        assert_eq!(
            check_decision(&dup(None)),
            Err(DecisionError::OriginalRequired)
        );
        assert_eq!(
            check_decision(&dup(Some((7, None)))),
            Err(DecisionError::SelfDuplicate)
        );
        assert_eq!(check_decision(&dup(Some((3, None)))), Ok(Some(3)));
        // 3 is itself a duplicate of 1: the demand goes to 1.
        assert_eq!(check_decision(&dup(Some((3, Some(1))))), Ok(Some(1)));
        // 3 is a duplicate of 7, this request: a cycle.
        assert_eq!(
            check_decision(&dup(Some((3, Some(7))))),
            Err(DecisionError::Cycle { original: 3 })
        );
        let stray = DecisionInput {
            original: Some((3, None)),
            ..input(Decision::Deferred)
        };
        assert_eq!(
            check_decision(&stray),
            Err(DecisionError::OriginalWithoutDuplicate)
        );
    }

    #[test]
    fn only_live_decisions_count_as_demand() {
        assert!(Decision::New.counts_as_demand());
        assert!(Decision::Accepted.counts_as_demand());
        assert!(Decision::Deferred.counts_as_demand());
        assert!(Decision::NeedsInfo.counts_as_demand());
        assert!(!Decision::Declined.counts_as_demand());
        assert!(!Decision::Duplicate.counts_as_demand());
    }

    proptest! {
        #[test]
        fn a_duplicate_never_ends_at_itself(id in 1i64..50, original in 1i64..50, its in proptest::option::of(1i64..50)) {
            let i = DecisionInput { request_id: id, to: Decision::Duplicate, reason: None, has_feature: false, original: Some((original, its)) };
            if let Ok(Some(root)) = check_decision(&i) {
                prop_assert_ne!(root, id);
            }
        }
    }
}
