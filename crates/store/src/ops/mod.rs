//! Keeping the data: the schema's migrations, backup and restore across engines, and the
//! secrets stored encrypted with their key and its rotation.

pub mod backup;
mod migrations;
pub mod secrets;
