//! Word documents (.docx) opened: the text of `word/document.xml`, read with a bound so that a
//! small file that inflates to gigabytes is refused instead of filling memory.

use std::io::{Cursor, Read};

use quick_xml::events::Event;

use crate::ExchangeError;

/// The largest `word/document.xml` read, uncompressed: the text of a 2,000-clause bid is a few
/// megabytes; a small file that inflates past this is a ZIP bomb, not a document.
pub const MAX_DOCUMENT_XML: u64 = 64 * 1024 * 1024;

/// The error for a document that cannot be read, saying what to do in both languages.
pub fn unreadable(reason: String) -> ExchangeError {
    ExchangeError::Unsupported(format!(
        "the Word document cannot be read ({reason}): open it in Word or WPS and save it as .docx \
         again / 无法读取该 Word 文档（{reason}）：请用 Word 或 WPS 打开后重新另存为 .docx"
    ))
}

/// The bytes of `word/document.xml`.
pub fn document_xml(bytes: &[u8]) -> Result<Vec<u8>, ExchangeError> {
    let bad = |e: &dyn std::fmt::Display| unreadable(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let mut xml = Vec::new();
    archive
        .by_name("word/document.xml")
        .map_err(|e| bad(&e))?
        .take(MAX_DOCUMENT_XML + 1)
        .read_to_end(&mut xml)
        .map_err(|e| bad(&e))?;
    if xml.len() as u64 > MAX_DOCUMENT_XML {
        return Err(unreadable(format!(
            "its text is larger than {} MB",
            MAX_DOCUMENT_XML / 1024 / 1024
        )));
    }
    Ok(xml)
}

/// The text of a character or entity reference (`&#x2605;`, `&amp;`) in a document's text; an
/// unknown entity is dropped (Word writes only the predefined ones).
pub(crate) fn reference_text(r: &quick_xml::events::BytesRef<'_>) -> String {
    match r.resolve_char_ref() {
        Ok(Some(c)) => c.to_string(),
        _ => r
            .decode()
            .ok()
            .and_then(|name| quick_xml::escape::resolve_predefined_entity(&name))
            .unwrap_or("")
            .to_string(),
    }
}

/// The text of a document, one paragraph a line (table cells are paragraphs too), for checking
/// what a generated paper says.
pub fn document_text(bytes: &[u8]) -> Result<String, ExchangeError> {
    let xml = document_xml(bytes)?;
    let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
    let mut buf = Vec::new();
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| unreadable(e.to_string()))?
        {
            Event::Eof => break,
            Event::Start(e) if e.local_name().as_ref() == b"t" => in_text = true,
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => {
                out.push_str(&t.decode().map_err(|e| unreadable(e.to_string()))?);
            }
            Event::GeneralRef(r) if in_text => out.push_str(&reference_text(&r)),
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}
