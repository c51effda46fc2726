//! Typed ids: a customer's id and a feature's id are both numbers in the database, and a call
//! that swaps them would compile and read the wrong rows. Each kind of row has its own id type,
//! so `store.customer(ws, feature_id)` does not compile.
//!
//! An id is serialized as its bare number (`"id": 7`), so the JSON contract is the one of plain
//! integers, and it parses from a path segment (`/api/v1/features/7`) the same way.

use std::fmt;
use std::str::FromStr;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub i64);

        impl $name {
            /// The number stored in the database.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(n: i64) -> Self {
                Self(n)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )*};
}

ids! {
    /// A workspace: one vendor's data; every other row belongs to exactly one.
    WorkspaceId;
    /// A product of the catalogue.
    ProductId;
    /// A feature of the catalogue.
    FeatureId;
    /// A customer (a hospital, an enterprise).
    CustomerId;
    /// A deal with a customer.
    DealId;
    /// A commitment: one promise of one feature to one customer.
    CommitmentId;
    /// An acceptance criterion of a commitment.
    CriterionId;
    /// A request from any role.
    RequestId;
    /// A release.
    ReleaseId;
    /// A demo environment.
    EnvironmentId;
    /// A probe of a demo environment.
    ProbeId;
    /// A scheduled demo.
    DemoId;
    /// A person with an account.
    UserId;
    /// An API token.
    TokenId;
    /// A webhook.
    WebhookId;
    /// An entry of the time log (hats).
    TimeEntryId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_bare_number_in_json_and_in_a_path() {
        let id = FeatureId(7);
        assert_eq!(serde_json::to_string(&id).unwrap(), "7");
        assert_eq!(serde_json::from_str::<FeatureId>("7").unwrap(), id);
        assert_eq!("7".parse::<FeatureId>().unwrap(), id);
        assert!("seven".parse::<FeatureId>().is_err());
        assert_eq!(id.to_string(), "7");
        assert_eq!(i64::from(id), 7);
    }
}
