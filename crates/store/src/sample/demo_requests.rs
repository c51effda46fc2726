//! The requests of the sample workspace: about forty, from every source role, mostly in Chinese;
//! some decided (with the reasons their requesters read), some merged as duplicates, some new,
//! so that the inbox, search, similar requests and the demand term of the roadmap all show.

use std::collections::HashMap;
use std::sync::LazyLock;

use cunjin_core::{Decision, SourceRole, Stage};

use super::data::{loaded, records};
use crate::requests::{FeatureLink, NewDecision, NewRequest, Via};
use crate::{Result, Store, StoreError};

/// What product management decided on a sample request.
enum Then {
    New,
    Accept(&'static str, Option<&'static str>),
    Defer(&'static str),
    Decline(&'static str),
    /// A duplicate of the sample request at that index.
    Dup(usize),
    NeedsInfo(&'static str),
    /// Linked to a feature, not decided yet.
    Link(&'static str),
}

impl Then {
    /// `new`, `accept FEATURE [RELEASE]`, `defer REASON`, `decline REASON`, `duplicate N`,
    /// `needs-info REASON` or `link FEATURE`.
    fn parse(s: &'static str) -> std::result::Result<Then, &'static str> {
        let (verb, rest) = s.split_once(' ').unwrap_or((s, ""));
        Ok(match (verb, rest) {
            ("new", "") => Then::New,
            ("accept", r) if !r.is_empty() => match r.split_once(' ') {
                Some((feature, release)) => Then::Accept(feature, Some(release)),
                None => Then::Accept(r, None),
            },
            ("defer", r) if !r.is_empty() => Then::Defer(r),
            ("decline", r) if !r.is_empty() => Then::Decline(r),
            ("needs-info", r) if !r.is_empty() => Then::NeedsInfo(r),
            ("link", r) if !r.is_empty() => Then::Link(r),
            ("duplicate", n) => Then::Dup(n.parse().map_err(|_| "duplicate takes a line number")?),
            _ => return Err("new, accept FEATURE [RELEASE], defer, decline or needs-info REASON, duplicate N or link FEATURE"),
        })
    }
}

/// A sample request (`requests.tsv`).
struct RequestSeed {
    text: &'static str,
    role: SourceRole,
    /// Its customer, by position in `customers.tsv`.
    customer: Option<usize>,
    requester: &'static str,
    then: Then,
}

/// `requests.tsv`, parsed on first use.
static REQUESTS: LazyLock<std::result::Result<Vec<RequestSeed>, String>> = LazyLock::new(|| {
    let seeds = records("requests.tsv", include_str!("data/requests.tsv"))
        .map(|mut r| {
            Ok(RequestSeed {
                text: r.required("text")?,
                role: r.parse("source role", SourceRole::parse)?,
                customer: r
                    .optional()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| r.bad(e))?,
                requester: r.required("requester")?,
                then: r.parse("then", Then::parse)?,
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    if let Some(i) = seeds
        .iter()
        .position(|s| matches!(s.then, Then::Dup(n) if n >= seeds.len()))
    {
        return Err(format!(
            "requests.tsv: request {i} duplicates one that is not there"
        ));
    }
    Ok(seeds)
});

impl Store {
    /// Files and decides the sample requests; returns how many were filed.
    pub(crate) async fn seed_demo_requests(
        &self,
        ws: i64,
        features: &HashMap<&str, (i64, Stage)>,
        customers: &[i64],
    ) -> Result<usize> {
        let feature = |key: &str| {
            features
                .get(key)
                .map(|(id, _)| *id)
                .ok_or_else(|| StoreError::Corrupt(format!("demo seed: no feature '{key}'")))
        };
        let seeds = loaded(&REQUESTS)?;
        let mut ids = Vec::with_capacity(seeds.len());
        for seed in seeds {
            let via = if seed.role == SourceRole::Customer {
                Via::Intake
            } else {
                Via::Web
            };
            let r = self
                .create_request(
                    ws,
                    if via == Via::Intake {
                        "intake"
                    } else {
                        "demo@localhost"
                    },
                    via,
                    NewRequest {
                        text: seed.text.to_string(),
                        source_role: seed.role,
                        customer_id: seed
                            .customer
                            .map(|i| {
                                customers.get(i).copied().ok_or_else(|| {
                                    StoreError::Corrupt(format!("demo seed: no customer {i}"))
                                })
                            })
                            .transpose()?,
                        requester: seed.requester.to_string(),
                        contact: String::new(),
                        product_id: None,
                        feature_id: None,
                    },
                )
                .await?;
            ids.push(r.id);
        }
        for (seed, id) in seeds.iter().zip(&ids) {
            let d = |decision| NewDecision {
                decision,
                reason: None,
                feature: None,
                duplicate_of: None,
                planned_release: None,
            };
            let decision = match &seed.then {
                Then::New => continue,
                Then::Link(key) => {
                    // Triaged to a feature, not decided yet: it already counts as demand.
                    self.link_request_feature(ws, "pm@localhost", *id, feature(key)?)
                        .await?;
                    continue;
                }
                Then::Accept(key, release) => NewDecision {
                    feature: Some(FeatureLink::Id(feature(key)?)),
                    planned_release: release.map(str::to_string),
                    ..d(Decision::Accepted)
                },
                Then::Defer(reason) => NewDecision {
                    reason: Some(reason.to_string()),
                    ..d(Decision::Deferred)
                },
                Then::Decline(reason) => NewDecision {
                    reason: Some(reason.to_string()),
                    ..d(Decision::Declined)
                },
                Then::NeedsInfo(reason) => NewDecision {
                    reason: Some(reason.to_string()),
                    ..d(Decision::NeedsInfo)
                },
                Then::Dup(original) => NewDecision {
                    duplicate_of: Some(ids[*original]),
                    ..d(Decision::Duplicate)
                },
            };
            self.decide_request(ws, "pm@localhost", *id, decision)
                .await?;
        }
        Ok(ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_tsv_parses() {
        let seeds = REQUESTS.as_ref().expect("requests.tsv parses");
        assert_eq!(seeds.len(), 42);
        assert!(seeds.iter().all(|s| s.customer.is_none_or(|c| c < 12)));
    }
}
