//! Who may do what: users, sessions and API tokens, workspaces, the links opened by a token,
//! and the audit log of who changed what.

pub mod audit;
pub mod auth;
pub(crate) mod links;
pub mod workspaces;
