//! Text encodings of files written by Chinese Excel, ZenTao and Redmine.

use std::borrow::Cow;

/// The encoding a text file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// UTF-8 starting with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// UTF-8.
    Utf8,
    /// GB18030, which reads GBK (Chinese Windows' "ANSI") as well.
    Gb18030,
}

/// Decodes a text file: a UTF-8 BOM means UTF-8; valid UTF-8 is UTF-8; anything else is read as
/// GB18030, a superset of GBK and GB2312. Never fails: GB18030 maps every byte sequence,
/// malformed bytes becoming U+FFFD.
pub fn decode_text(bytes: &[u8]) -> (Cow<'_, str>, TextEncoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        // After a BOM the rest is UTF-8 by declaration; broken bytes become U+FFFD.
        return (String::from_utf8_lossy(rest), TextEncoding::Utf8Bom);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(s), TextEncoding::Utf8);
    }
    let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    (text, TextEncoding::Gb18030)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_with_and_without_bom() {
        let (t, e) = decode_text("\u{feff}标题,title".as_bytes());
        assert_eq!((t.as_ref(), e), ("标题,title", TextEncoding::Utf8Bom));
        let (t, e) = decode_text("标题".as_bytes());
        assert_eq!((t.as_ref(), e), ("标题", TextEncoding::Utf8));
    }

    #[test]
    fn reads_gbk_and_gb18030() {
        let (gbk, _, _) = encoding_rs::GBK.encode("需求名称,电子病历");
        let (t, e) = decode_text(&gbk);
        assert_eq!(
            (t.as_ref(), e),
            ("需求名称,电子病历", TextEncoding::Gb18030)
        );
        // A character outside GBK: only GB18030's four-byte form encodes it.
        let (gb, _, _) = encoding_rs::GB18030.encode("𠀀医保");
        assert_eq!(decode_text(&gb).0, "𠀀医保");
    }

    #[test]
    fn broken_bytes_do_not_panic() {
        for bytes in [&b"\xEF\xBB\xBF\xFF\xFE"[..], b"\x81", b"\xFF\xFF\x81\x30"] {
            let _ = decode_text(bytes);
        }
    }
}
