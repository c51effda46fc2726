//! Any bytes as an Excel workbook: read and every kind of row. Never panics.
#![no_main]

use cunjin_exchange::{
    parse_commitments, parse_features, parse_requests, read_table, Container, Dialect,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = read_table(data, Container::Xlsx) else {
        return;
    };
    let d = Dialect::detect(&table.headers);
    let _ = parse_requests(&table, d);
    let _ = parse_features(&table, d);
    let _ = parse_commitments(&table, Dialect::Cunjin);
});
