//! Any probe expectation against any answer: the fields and the body are the input split at
//! NUL bytes (status, substring, regex, JSON pointer, JSON value, body). Never panics.
#![no_main]

use cunjin_core::{Expectation, ExpectationFields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let mut next = || parts.next().filter(|s| !s.is_empty());
    let status = next().and_then(|s| s.parse::<i64>().ok());
    let body = next();
    let regex = next();
    let json_pointer = next();
    let json_value = next();
    let answer = next().unwrap_or("");
    let Ok(e) = Expectation::parse(ExpectationFields {
        status,
        body,
        regex,
        json_pointer,
        json_value,
    }) else {
        return;
    };
    let _ = e.check(200, answer);
    let _ = e.check(e.status, answer);
});
