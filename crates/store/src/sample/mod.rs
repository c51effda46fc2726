//! Sample data: the workspace of `cunjin serve --demo` ([`demo`], with its requests) and the
//! synthetic vendor of `cunjin generate` ([`generate`]). The names and sentences they use are
//! data, in `sample/data/`, compiled in.

mod data;
pub mod demo;
mod demo_requests;
pub mod generate;
