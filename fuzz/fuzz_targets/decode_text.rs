//! Any bytes as text: UTF-8 stays as it is, a BOM is dropped, the rest is GB18030; every
//! undecodable sequence is a U+FFFD at a listed offset. Never panics.
#![no_main]

use cunjin_exchange::{decode_text, TextEncoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = decode_text(data);
    match d.encoding {
        TextEncoding::Utf8 if d.malformed.is_empty() => assert_eq!(d.text.as_bytes(), data),
        TextEncoding::Utf8 => assert!(std::str::from_utf8(data).is_err()),
        TextEncoding::Utf8Bom => assert!(data.starts_with(b"\xEF\xBB\xBF")),
        TextEncoding::Gb18030 => assert!(std::str::from_utf8(data).is_err()),
    }
    for &at in &d.malformed {
        assert!(d.text[at..].starts_with('\u{FFFD}'));
    }
});
