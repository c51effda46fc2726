//! Any bytes as text: UTF-8 stays as it is, a BOM is dropped, the rest is GB18030. Never panics.
#![no_main]

use cunjin_exchange::{decode_text, TextEncoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, encoding) = decode_text(data);
    match encoding {
        TextEncoding::Utf8 => assert_eq!(text.as_bytes(), data),
        TextEncoding::Utf8Bom => assert!(data.starts_with(b"\xEF\xBB\xBF")),
        TextEncoding::Gb18030 => assert!(std::str::from_utf8(data).is_err()),
    }
});
