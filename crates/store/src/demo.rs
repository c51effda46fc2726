//! The sample workspace of `cunjin serve --demo`.
