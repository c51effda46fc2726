//! The ledger of promises: the catalogue of features, customers and their deals, the
//! commitments made to them and the progress of their criteria.

pub mod catalogue;
pub mod commitments;
pub mod customers;
pub mod progress;
