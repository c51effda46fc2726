//! The domain of cunjin (寸进): how real a feature is, how a promise was shown, the life of a
//! commitment, the 尺/寸 gap and the roadmap score.
//!
//! Everything here is pure: no I/O, no async, no database types. Values arrive already parsed
//! (`Stage::parse`, `MenuPath::parse`, …) so that past the edge of the system they are valid by
//! construction, and every rule of DESIGN.md is unit-tested here without a server.

pub mod calendar;
pub mod commitment;
pub mod forecast;
pub mod gap;
pub mod hats;
pub mod ids;
pub mod mail;
pub mod mode;
pub mod notify;
pub mod payment;
pub mod probe;
pub mod progress;
pub mod readiness;
pub mod request;
pub mod roadmap;
pub mod role;
pub mod scale;
pub mod search;
pub mod stage;
pub mod tender;
pub mod values;

pub use commitment::{check_criteria_count, Status, TransitionError, MAX_CRITERIA};
pub use gap::Gap;
pub use hats::Hat;
pub use ids::{
    CommitmentId, CriterionId, CustomerId, DealId, DemoId, EnvironmentId, FeatureId, ProbeId,
    ProductId, ReleaseId, RequestId, TimeEntryId, TokenId, UserId, WebhookId, WorkspaceId,
};
pub use mode::{Health, Mode};
pub use probe::{Expectation, ExpectationFields, ProbeFailure, ProbeMethod};
pub use progress::Gained;
pub use readiness::{Note, TalkTrack, Verdict};
pub use request::{check_decision, Decision, DecisionError, DecisionInput, SourceRole};
pub use roadmap::{
    CommitmentDemand, CommitmentTerm, FeatureInput, Requester, RoadmapWeights, ScoreTerms,
};
pub use role::{Permission, Role};
pub use stage::Stage;
pub use values::{required_text, web_link, DealStage, Email, MenuPath, Money, ParseError};

/// Serializes a contract enum as its name (`"idea"`, `"live"`, …).
macro_rules! serialize_as_str {
    ($($t:ty),*) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    )*};
}
serialize_as_str!(
    Stage,
    Mode,
    Status,
    Role,
    DealStage,
    Decision,
    SourceRole,
    ProbeMethod,
    Hat,
    notify::WebhookKind,
    notify::Event,
    tender::Marker,
    tender::Deviation,
    tender::Evidence
);

/// Reads a contract enum from its stored name, so that a row struct can say
/// `#[sqlx(try_from = "String")] stage: Stage`; an unknown name is the parser's error.
macro_rules! parse_from_string {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                <$t>::parse(&s)
            }
        }
    )*};
}
parse_from_string!(
    Stage,
    Mode,
    Status,
    Role,
    DealStage,
    Decision,
    SourceRole,
    ProbeMethod,
    Hat,
    notify::WebhookKind,
    notify::Event,
    tender::Marker,
    tender::Deviation,
    tender::Evidence,
    payment::MilestoneEvent,
    payment::MilestoneStatus
);
