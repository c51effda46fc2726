//! Any bytes as an Excel workbook: read and every kind of row. Never panics.
//!
//! `read_table` catches panics inside calamine (it has some on malformed workbooks) and turns
//! them into an error. libfuzzer-sys's panic hook aborts even on a caught panic, so this target
//! puts a quiet hook in its place: a panic that escapes `cunjin-exchange` still reaches
//! libfuzzer-sys's own `catch_unwind`, which aborts and reports it.
#![no_main]

use cunjin_exchange::{
    parse_commitments, parse_features, parse_requests, read_table, Container, Dialect,
};
use libfuzzer_sys::fuzz_target;

static DEFAULT_HOOK: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    DEFAULT_HOOK.call_once(|| {
        let _ = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
    });
    let Ok(table) = read_table(data, Container::Xlsx) else {
        return;
    };
    let d = Dialect::detect(&table.headers);
    let _ = parse_requests(&table, d);
    let _ = parse_features(&table, d);
    let _ = parse_commitments(&table, Dialect::Cunjin);
});
