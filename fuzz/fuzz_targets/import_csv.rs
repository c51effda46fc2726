//! Any bytes as a CSV file: read, every dialect's columns, every kind of row. Never panics;
//! lines only grow; every bad row names a line of the file.
#![no_main]

use cunjin_exchange::{
    parse_commitments, parse_features, parse_requests, read_table, Container, Dialect,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(table) = read_table(data, Container::Csv) else {
        return;
    };
    let mut last = 1;
    for r in &table.rows {
        assert!(r.line > last, "lines grow: {} after {last}", r.line);
        last = r.line;
    }
    let lines: Vec<u64> = table.rows.iter().map(|r| r.line).collect();
    let _ = Dialect::detect(&table.headers);
    for d in [Dialect::Cunjin, Dialect::Zentao, Dialect::Jira, Dialect::Redmine] {
        if let Ok(p) = parse_requests(&table, d) {
            assert!(p.errors.iter().all(|e| lines.contains(&e.line)));
            assert_eq!(p.rows.len() + p.errors.len(), table.rows.len());
        }
        if let Ok(p) = parse_features(&table, d) {
            assert!(p.errors.iter().all(|e| lines.contains(&e.line)));
            assert_eq!(p.rows.len() + p.errors.len(), table.rows.len());
        }
        if let Ok(p) = parse_commitments(&table, d) {
            assert!(p.errors.iter().all(|e| lines.contains(&e.line)));
            assert_eq!(p.rows.len() + p.errors.len(), table.rows.len());
        }
    }
});
