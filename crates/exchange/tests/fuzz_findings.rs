//! Inputs found by `cargo fuzz` (see docs/fuzzing.md), kept so that each stays fixed.

use cunjin_exchange::{parse_requests, read_table, Container, Dialect};

#[test]
fn csv_with_a_lone_carriage_return_gives_each_row_its_own_line() {
    // "…\nX,H-1,\r\0Do…": the csv crate ended a record at the lone \r but numbered the next
    // one with the same line.
    let bytes = include_bytes!("fuzz-findings/csv-bare-carriage-return.csv");
    let t = read_table(bytes, Container::Csv).unwrap();
    let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3]);
    let p = parse_requests(&t, Dialect::detect(&t.headers)).unwrap();
    assert_eq!(p.rows.len() + p.errors.len(), 2);
}

#[test]
fn xlsx_with_a_shared_string_index_past_the_table_is_an_error_not_a_panic() {
    let bytes = include_bytes!("fuzz-findings/xlsx-shared-string-index.xlsx");
    let e = read_table(bytes, Container::Xlsx).unwrap_err();
    assert!(e.to_string().contains("Excel"), "{e}");
}
