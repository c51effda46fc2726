//! The last portfolio gap and roadmap ranking of each workspace, kept by this instance.
//!
//! Both reports add up every live promise of a workspace: seconds at the largest vendor's scale
//! (200,000 commitments). Every write that can change them moves `workspaces.report_version` in
//! its own transaction (database triggers, migrations 0008 and 0010, so no code path and no other
//! instance can forget it). A report is served from here while the version it was computed at is
//! still current. When it is not, it is brought up to date, once however many callers are
//! waiting: the same triggers log which customers and features each write may have changed, and
//! only those are computed again (`gap_brought_up`, `ranking_brought_up`); after a larger write,
//! the report is computed again in full.
//!
//! What is made from a kept report for a caller (the JSON of the gap, a page of the roadmap as
//! JSON or as the web page's table) is kept with it, so that it is made once per report, not
//! once per call: at 5,000 customers the gap is about 1 MB of JSON.

pub(crate) mod changes;
pub mod gap;
pub(crate) mod kept;
pub mod roadmap;
