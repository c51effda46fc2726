//! What shipped: releases that deliver features, and the status links through which a customer
//! reads its own commitments.

pub mod releases;
pub mod status_links;
