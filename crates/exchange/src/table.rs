//! Files as tables of text: a header line and rows, each row with its line in the file.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::decode::{decode_text, TextEncoding};
use crate::ExchangeError;

/// How the bytes of a file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Container {
    /// Comma-separated text.
    Csv,
    /// An Excel 2007+ workbook; its first sheet is read.
    Xlsx,
}

impl Container {
    /// What the bytes are: .xlsx files are ZIP archives, everything else is read as text.
    pub fn sniff(bytes: &[u8]) -> Container {
        if bytes.starts_with(b"PK\x03\x04") {
            Container::Xlsx
        } else {
            Container::Csv
        }
    }

    /// From a file name's extension, if it says.
    pub fn from_file_name(name: &str) -> Option<Container> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".xlsx") {
            Some(Container::Xlsx)
        } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
            Some(Container::Csv)
        } else {
            None
        }
    }
}

/// One row of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRow {
    /// Its line in the file, 1-based (the header is line 1; for CSV, where the record starts).
    pub line: u64,
    /// Its cells as text, trimmed.
    pub cells: Vec<String>,
    /// Whether it holds bytes that its file's text encoding cannot read (a file cut inside a
    /// character, or saved in another encoding): such a row is refused, never stored as "�".
    pub undecodable: bool,
}

/// A file read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The header line, trimmed.
    pub headers: Vec<String>,
    /// The rows after it; rows whose cells are all blank are left out.
    pub rows: Vec<TableRow>,
    /// The text encoding (CSV only).
    pub encoding: Option<TextEncoding>,
    /// Whether the header line holds bytes that the text encoding cannot read.
    pub undecodable_header: bool,
}

/// Reads a file as a table.
pub fn read_table(bytes: &[u8], container: Container) -> Result<Table, ExchangeError> {
    match container {
        Container::Csv => read_csv(bytes),
        Container::Xlsx => read_xlsx(bytes),
    }
}

fn read_csv(bytes: &[u8]) -> Result<Table, ExchangeError> {
    let decoded = decode_text(bytes);
    let text = decoded.text.as_bytes();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut headers = None;
    let mut undecodable_header = false;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::default();
    // Undecodable bytes not yet placed in a record (their offsets are in order, as records are).
    let mut malformed = decoded.malformed.iter().peekable();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(ExchangeError::Csv(e.to_string())),
        }
        let line = lines.line_at(text, record.position().map_or(0, |p| p.byte()));
        // The record ends where the reader now stands.
        let end = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let mut undecodable = false;
        while malformed.next_if(|&&at| at < end).is_some() {
            undecodable = true;
        }
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if headers.is_none() {
            headers = Some(cells);
            undecodable_header = undecodable;
        } else if cells.iter().any(|c| !c.is_empty()) {
            rows.push(TableRow {
                line,
                cells,
                undecodable,
            });
        }
    }
    let headers = headers.ok_or(ExchangeError::Empty)?;
    Ok(Table {
        headers,
        rows,
        encoding: Some(decoded.encoding),
        undecodable_header,
    })
}

/// Lines as a person's editor counts them, ended by `\n`, `\r\n` or a lone `\r` (old Mac
/// Excel). The csv crate ends records at a lone `\r` too but counts only `\n` in its line
/// numbers, which put every row of such a file on line 1 (found by fuzzing).
#[derive(Default)]
struct LineCounter {
    scanned: usize,
    line: u64,
}

impl LineCounter {
    /// The 1-based line of the byte at `offset`; offsets must not go backwards.
    fn line_at(&mut self, text: &[u8], offset: u64) -> u64 {
        let mut end = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(text.len());
        // The csv crate may place a record's start on the line ending before it.
        while matches!(text.get(end), Some(b'\r' | b'\n')) {
            end += 1;
        }
        let from = self.scanned.min(end);
        for i in from..end {
            match text[i] {
                b'\n' => self.line += 1,
                b'\r' if text.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.scanned = self.scanned.max(end);
        self.line + 1
    }
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        // Whole numbers typed into Excel are stored as floats: 3 must not become "3.0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => dt.as_f64().to_string(),
        },
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, ExchangeError> {
    // calamine 0.31 panics on some malformed workbooks (a shared-string index past the end of
    // the table, found by fuzzing); a file must never take the process down. 0.38 fixes that
    // one but needs Rust 1.88.
    std::panic::catch_unwind(|| read_xlsx_unguarded(bytes)).unwrap_or_else(|_| {
        Err(ExchangeError::Xlsx(
            "the workbook is malformed / 工作簿已损坏".into(),
        ))
    })
}

fn read_xlsx_unguarded(bytes: &[u8]) -> Result<Table, ExchangeError> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| ExchangeError::Xlsx(e.to_string()))?;
    let range = match book.worksheet_range_at(0) {
        Some(r) => r.map_err(|e| ExchangeError::Xlsx(e.to_string()))?,
        None => return Err(ExchangeError::Empty),
    };
    // Line numbers are the sheet's own row numbers, as Excel shows them.
    let first_row = range.start().map_or(0, |(r, _)| u64::from(r));
    let mut headers = None;
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let line = first_row + i as u64 + 1;
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        if headers.is_none() {
            if cells.iter().any(|c| !c.is_empty()) {
                headers = Some(cells);
            }
        } else if cells.iter().any(|c| !c.is_empty()) {
            rows.push(TableRow {
                line,
                cells,
                undecodable: false,
            });
        }
    }
    Ok(Table {
        headers: headers.ok_or(ExchangeError::Empty)?,
        rows,
        encoding: None,
        undecodable_header: false,
    })
}

/// Records to write: a header line and rows of text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheet {
    /// Column names.
    pub headers: Vec<String>,
    /// Rows, as many cells as headers.
    pub rows: Vec<Vec<String>>,
}

/// A cell that a spreadsheet would run as a formula gets a leading apostrophe, so that text from
/// the public intake form cannot become a formula on the exporting person's machine; the import
/// of cunjin's own columns takes it off again.
pub fn defuse_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Undoes [`defuse_formula`].
pub fn restore_formula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// Writes a sheet as CSV in UTF-8 with a BOM, which Excel needs to show Chinese correctly.
pub fn write_csv(sheet: &Sheet) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        // Writing into a Vec cannot fail: the only errors are I/O errors of the writer.
        let _ = w.write_record(&sheet.headers);
        for row in &sheet.rows {
            let _ = w.write_record(row.iter().map(|c| defuse_formula(c).into_owned()));
        }
        let _ = w.flush();
    }
    out
}

/// Writes a sheet as an .xlsx workbook with one sheet, every cell as text.
pub fn write_xlsx(sheet: &Sheet) -> Result<Vec<u8>, ExchangeError> {
    let err = |e: rust_xlsxwriter::XlsxError| ExchangeError::Write(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in sheet.headers.iter().enumerate() {
        let c = u16::try_from(c).map_err(|_| ExchangeError::Write("too many columns".into()))?;
        ws.write_string_with_format(0, c, h, &bold).map_err(err)?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| ExchangeError::Write("too many rows".into()))?;
        for (c, v) in row.iter().enumerate() {
            let c =
                u16::try_from(c).map_err(|_| ExchangeError::Write("too many columns".into()))?;
            if !v.is_empty() {
                ws.write_string(r, c, v).map_err(err)?;
            }
        }
    }
    book.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_count_quoted_newlines() {
        let t = read_csv("title,text\na,\"two\nlines\"\n\n,\nb,x\n".as_bytes()).unwrap();
        assert_eq!(t.headers, ["title", "text"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.rows[0].cells[1], "two\nlines");
        // The blank line and the row of empty cells are skipped, lines still count.
        assert_eq!(t.rows[1].line, 6);
    }

    #[test]
    fn lone_carriage_returns_end_lines() {
        let t = read_csv(b"title\ra\rb\r\nc\n\"d\re\"\rf").unwrap();
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 7]);
    }

    #[test]
    fn rows_with_undecodable_bytes_are_marked() {
        let (gbk, _, _) =
            encoding_rs::GBK.encode("内容,客户\n医保结算,华西\n\"两行\n排班\",协和\n");
        let t = read_csv(&gbk).unwrap();
        assert!(t.rows.iter().all(|r| !r.undecodable) && !t.undecodable_header);
        // Cut inside the last character of the last row, a record of two lines.
        let t = read_csv(&gbk[..gbk.len() - 2]).unwrap();
        let marked: Vec<(u64, bool)> = t.rows.iter().map(|r| (r.line, r.undecodable)).collect();
        assert_eq!(marked, [(2, false), (3, true)]);
        let t = read_csv(b"\xEF\xBB\xBFtext\xFF\na\nb\xFE\n").unwrap();
        assert!(t.undecodable_header);
        let marked: Vec<bool> = t.rows.iter().map(|r| r.undecodable).collect();
        assert_eq!(marked, [false, true]);
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(matches!(read_csv(b""), Err(ExchangeError::Empty)));
    }

    #[test]
    fn xlsx_round_trip_keeps_text_and_lines() {
        let sheet = Sheet {
            headers: vec!["标题".into(), "text".into()],
            rows: vec![
                vec!["电子病历".into(), "=1+1".into()],
                vec!["".into(), "".into()],
                vec!["x".into(), "007".into()],
            ],
        };
        let bytes = write_xlsx(&sheet).unwrap();
        assert_eq!(Container::sniff(&bytes), Container::Xlsx);
        let t = read_table(&bytes, Container::Xlsx).unwrap();
        assert_eq!(t.headers, ["标题", "text"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells, ["电子病历", "=1+1"]);
        assert_eq!((t.rows[1].line, t.rows[1].cells[1].as_str()), (4, "007"));
    }

    #[test]
    fn csv_export_defuses_formulas_and_import_restores_them() {
        let sheet = Sheet {
            headers: vec!["text".into()],
            rows: vec![vec!["=HYPERLINK(\"x\")".into()], vec!["'plain".into()]],
        };
        let bytes = write_csv(&sheet);
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let t = read_csv(&bytes).unwrap();
        assert_eq!(t.rows[0].cells[0], "'=HYPERLINK(\"x\")");
        assert_eq!(restore_formula(&t.rows[0].cells[0]), "=HYPERLINK(\"x\")");
        assert_eq!(restore_formula(&t.rows[1].cells[0]), "'plain");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_table(b"PK\x03\x04garbage", Container::Xlsx).is_err());
    }
}
