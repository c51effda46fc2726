//! Text encodings of files written by Chinese Excel, ZenTao and Redmine.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, Encoding};

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

/// A text file decoded, with where its undecodable bytes were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The text; each undecodable byte sequence stands as one U+FFFD.
    pub text: Cow<'a, str>,
    /// The encoding it was read in.
    pub encoding: TextEncoding,
    /// Byte offsets in `text` of the U+FFFD put for undecodable bytes, in order. A U+FFFD that
    /// the file itself spelled out is not among them.
    pub malformed: Vec<usize>,
}

/// Decodes a text file: a UTF-8 BOM means UTF-8; valid UTF-8 is UTF-8, and so is UTF-8 that
/// is only cut off inside its last character (a file truncated by a copy); anything else is read
/// as GB18030, a superset of GBK and GB2312. Never fails: bytes that the encoding cannot read
/// become U+FFFD and are listed in [`Decoded::malformed`], so that the rows holding them can be
/// refused instead of stored as "�".
pub fn decode_text(bytes: &[u8]) -> Decoded<'_> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        // After a BOM the rest is UTF-8 by declaration.
        return decoded(encoding_rs::UTF_8, rest, TextEncoding::Utf8Bom);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded {
            text: Cow::Borrowed(s),
            encoding: TextEncoding::Utf8,
            malformed: Vec::new(),
        },
        // Valid up to an incomplete last character: UTF-8 cut short, not GB18030.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            decoded(encoding_rs::UTF_8, bytes, TextEncoding::Utf8)
        }
        Err(_) => decoded(encoding_rs::GB18030, bytes, TextEncoding::Gb18030),
    }
}

fn decoded(encoding: &'static Encoding, bytes: &[u8], name: TextEncoding) -> Decoded<'static> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 2 + 16);
    let mut malformed = Vec::new();
    let mut input = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(input, &mut text, true);
        input = &input[read..];
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => text.reserve(input.len() * 3 + 16),
            DecoderResult::Malformed(_, _) => {
                malformed.push(text.len());
                text.push('\u{FFFD}');
            }
        }
    }
    Decoded {
        text: Cow::Owned(text),
        encoding: name,
        malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(bytes: &[u8]) -> (String, TextEncoding) {
        let d = decode_text(bytes);
        assert!(d.malformed.is_empty(), "{d:?}");
        (d.text.into_owned(), d.encoding)
    }

    #[test]
    fn reads_utf8_with_and_without_bom() {
        let (t, e) = plain("\u{feff}标题,title".as_bytes());
        assert_eq!((t.as_str(), e), ("标题,title", TextEncoding::Utf8Bom));
        let (t, e) = plain("标题".as_bytes());
        assert_eq!((t.as_str(), e), ("标题", TextEncoding::Utf8));
    }

    #[test]
    fn reads_gbk_and_gb18030() {
        let (gbk, _, _) = encoding_rs::GBK.encode("需求名称,电子病历");
        let (t, e) = plain(&gbk);
        assert_eq!(
            (t.as_str(), e),
            ("需求名称,电子病历", TextEncoding::Gb18030)
        );
        // A character outside GBK: only GB18030's four-byte form encodes it.
        let (gb, _, _) = encoding_rs::GB18030.encode("𠀀医保");
        assert_eq!(plain(&gb).0, "𠀀医保");
        // A U+FFFD written in the file is text, not a decoding error.
        let (gb, _, _) = encoding_rs::GB18030.encode("医保\u{FFFD}");
        assert_eq!(plain(&gb).0, "医保\u{FFFD}");
    }

    #[test]
    fn a_gbk_file_cut_inside_a_character_marks_where() {
        let (gbk, _, _) = encoding_rs::GBK.encode("内容\n医保结算\n排班");
        let cut = &gbk[..gbk.len() - 1];
        let d = decode_text(cut);
        assert_eq!(d.encoding, TextEncoding::Gb18030);
        assert_eq!(d.text, "内容\n医保结算\n排\u{FFFD}");
        assert_eq!(d.malformed, [d.text.len() - '\u{FFFD}'.len_utf8()]);
    }

    #[test]
    fn utf8_cut_inside_its_last_character_stays_utf8() {
        let s = "内容\n医保结算".as_bytes();
        let d = decode_text(&s[..s.len() - 1]);
        assert_eq!(d.encoding, TextEncoding::Utf8);
        assert_eq!(d.text, "内容\n医保结\u{FFFD}");
        assert_eq!(d.malformed.len(), 1);
        let d = decode_text(b"\xEF\xBB\xBFa\xFFb");
        assert_eq!(
            (d.text.as_ref(), d.malformed.as_slice()),
            ("a\u{FFFD}b", &[1][..])
        );
    }

    #[test]
    fn broken_bytes_do_not_panic() {
        for bytes in [&b"\xEF\xBB\xBF\xFF\xFE"[..], b"\x81", b"\xFF\xFF\x81\x30"] {
            let d = decode_text(bytes);
            assert!(!d.malformed.is_empty(), "{bytes:?}");
        }
    }
}
