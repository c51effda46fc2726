//! The bid's deviation table (技术偏离表, 技术规格响应表, 点对点应答) read from the file the bid
//! was written in: a Word document (.docx), a workbook (.xlsx) or CSV text.
//!
//! A Word bid holds many tables (the company's qualifications, the price list, the team…); the
//! deviation table is the one whose header names a requirement column and at least one of the
//! columns that answer it. It may run over pages as one table with its header row repeated, or as
//! several tables, each repeating the header or following the last with nothing but a page break
//! between. A category cell merged over the rows of its module (Word's vertical merge, Excel's
//! merged region) gives each of those rows its category, and so does a heading row across the
//! table ("一、门诊医生站").

use std::io::Cursor;

use cunjin_core::tender::{Deviation, Evidence, Marker};
use quick_xml::events::Event;

use crate::decode::TextEncoding;
use crate::rows::RowError;
use crate::table::{read_table, Container};
use crate::ExchangeError;

/// The columns of a deviation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderColumn {
    /// 序号.
    Position,
    /// 招标文件条款号.
    Clause,
    /// 类别 / 功能模块.
    Category,
    /// 招标要求 / 技术参数要求 / 采购需求.
    Requirement,
    /// 指标属性 (★ / ▲).
    Marker,
    /// 投标响应 / 响应情况.
    Response,
    /// 偏离情况.
    Deviation,
    /// 说明 / 偏离说明 / 备注.
    Note,
    /// 证明材料 / 证明材料所在页 / 页码.
    Evidence,
}

/// Header words of each column, tried in this order: a header is the first column any of whose
/// words it contains ("偏离说明" is a note before it is a deviation; "条款属性" a marker before it
/// is a clause). Words of three letters or fewer must match the whole header ("No." is not
/// "Note").
const COLUMN_WORDS: &[(TenderColumn, &[&str])] = &[
    (
        TenderColumn::Note,
        &[
            "偏离说明",
            "备注",
            "说明",
            "note",
            "remark",
            "explanation",
            "comment",
        ],
    ),
    (
        TenderColumn::Evidence,
        &[
            "证明材料",
            "佐证材料",
            "证明文件",
            "支撑材料",
            "所在页",
            "页码",
            "evidence",
            "proof",
            "page",
        ],
    ),
    (
        TenderColumn::Marker,
        &[
            "指标属性",
            "条款属性",
            "参数属性",
            "属性",
            "重要性",
            "指标类型",
            "marker",
            "attribute",
            "weight",
            "★/▲",
            "★▲",
        ],
    ),
    (
        TenderColumn::Deviation,
        &["偏离情况", "偏离", "偏差", "deviation"],
    ),
    (
        TenderColumn::Response,
        &[
            "投标响应",
            "投标人响应",
            "响应情况",
            "响应内容",
            "响应参数",
            "实际响应",
            "投标文件响应",
            "响应",
            "应答",
            "response",
            "offered",
            "answer",
        ],
    ),
    (
        TenderColumn::Clause,
        &[
            "招标文件条款号",
            "条款号",
            "条款编号",
            "章节号",
            "条款",
            "clause",
            "section",
        ],
    ),
    (
        TenderColumn::Position,
        &["序号", "编号", "no", "no.", "#", "item"],
    ),
    (
        TenderColumn::Category,
        &[
            "类别",
            "分类",
            "功能模块",
            "模块",
            "子系统",
            "系统名称",
            "category",
            "module",
        ],
    ),
    (
        TenderColumn::Requirement,
        &[
            "招标要求",
            "技术参数要求",
            "技术要求",
            "采购需求",
            "招标技术要求",
            "招标文件要求",
            "技术参数",
            "参数要求",
            "功能要求",
            "需求",
            "requirement",
            "specification",
        ],
    ),
];

/// Lower-cased, without white space and brackets.
fn folded(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !"()（）[]【】".contains(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which column a header names, if any.
pub fn column_of(header: &str) -> Option<TenderColumn> {
    let h = folded(header);
    if h.is_empty() {
        return None;
    }
    COLUMN_WORDS.iter().find_map(|(column, words)| {
        words
            .iter()
            .any(|w| {
                if w.chars().count() <= 3 && w.is_ascii() {
                    h == *w
                } else {
                    h.contains(w)
                }
            })
            .then_some(*column)
    })
}

/// What kind of file a bid came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderFile {
    /// A Word document.
    Docx,
    /// An Excel workbook (its first sheet).
    Xlsx,
    /// CSV text.
    Csv,
}

/// One clause of the bid, read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenderRow {
    /// Where it is: the row of the deviation table, counting its header as row 1 (for CSV and
    /// Excel, the line or row of the file).
    pub line: u64,
    /// 序号, as written.
    pub position: Option<String>,
    /// 招标文件条款号.
    pub clause: Option<String>,
    /// The module or category the clause is under.
    pub category: Option<String>,
    /// What the tender asks, without a leading ★ or ▲.
    pub requirement: String,
    /// ★ / ▲ / none.
    pub marker: Marker,
    /// What the bid answered.
    pub response: Option<String>,
    /// How the answer stands to the clause.
    pub deviation: Deviation,
    /// 说明.
    pub note: Option<String>,
    /// The proof the bid names.
    pub evidence: Evidence,
    /// The evidence cell as written, e.g. "《技术册》P46 功能截图": where the proof is.
    pub evidence_page: Option<String>,
}

/// A deviation table read: the rows that could be read and one error for each that could not.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenderTable {
    /// The kind of file.
    pub file: TenderFile,
    /// The text encoding (CSV only).
    pub encoding: Option<TextEncoding>,
    /// The header as written, with the column each cell was taken as.
    pub columns: Vec<(String, Option<TenderColumn>)>,
    /// Whether the table has a deviation column; without one, every clause counts as answered
    /// without deviation (点对点应答 tables often have only the answer).
    pub has_deviation_column: bool,
    /// The rows read, in the bid's order.
    pub rows: Vec<TenderRow>,
    /// The rows that cannot be read, with their row and reason.
    pub errors: Vec<RowError>,
}

/// A table as rows of cell text, each row with the number it is known by.
#[derive(Debug, Default, Clone)]
struct Grid {
    rows: Vec<(u64, Vec<String>)>,
}

/// Reads the deviation table of a bid. `file_name` decides the kind of file when its extension
/// says (.docx, .xlsx, .csv); otherwise the bytes do.
pub fn read_tender(bytes: &[u8], file_name: &str) -> Result<TenderTable, ExchangeError> {
    let lower = file_name.to_ascii_lowercase();
    let kind = if lower.ends_with(".docx") {
        TenderFile::Docx
    } else if lower.ends_with(".xlsx") {
        TenderFile::Xlsx
    } else if lower.ends_with(".csv") || lower.ends_with(".txt") {
        TenderFile::Csv
    } else if bytes.starts_with(b"PK\x03\x04") {
        if zip_has(bytes, "word/document.xml") {
            TenderFile::Docx
        } else {
            TenderFile::Xlsx
        }
    } else {
        TenderFile::Csv
    };
    if lower.ends_with(".doc") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(ExchangeError::Unsupported(
            "this is an old Word (.doc) or Excel (.xls) file: save it as .docx or .xlsx and upload \
             that / 这是旧版 Word（.doc）或 Excel（.xls）文件：请另存为 .docx 或 .xlsx 后再上传"
                .into(),
        ));
    }
    let (grids, encoding) = match kind {
        TenderFile::Docx => (docx_tables(bytes)?, None),
        TenderFile::Xlsx | TenderFile::Csv => {
            let container = if kind == TenderFile::Xlsx {
                Container::Xlsx
            } else {
                Container::Csv
            };
            let table = read_table(bytes, container)?;
            let mut grid = Grid::default();
            // The header line of the file may be a title above the real header: the grid keeps
            // every row and the header is looked for in it.
            let header_line = table.rows.first().map_or(1, |r| r.line.saturating_sub(1));
            grid.rows.push((header_line.max(1), table.headers.clone()));
            for row in &table.rows {
                if row.undecodable {
                    grid.rows.push((row.line, vec!["\u{FFFD}".into()]));
                } else {
                    grid.rows.push((row.line, row.cells.clone()));
                }
            }
            (vec![(grid, true)], table.encoding)
        }
    };
    let mut out = read_grids(&grids)?;
    out.file = kind;
    out.encoding = encoding;
    Ok(out)
}

fn zip_has(bytes: &[u8], name: &str) -> bool {
    zip::ZipArchive::new(Cursor::new(bytes))
        .map(|mut z| z.by_name(name).is_ok())
        .unwrap_or(false)
}

/// Where the header is in a grid: the row (among its first ten) that names a requirement column
/// and at least one column that answers it.
fn header_in(grid: &Grid) -> Option<(usize, Vec<Option<TenderColumn>>)> {
    grid.rows
        .iter()
        .take(10)
        .enumerate()
        .find_map(|(i, (_, cells))| {
            let columns: Vec<Option<TenderColumn>> = cells.iter().map(|c| column_of(c)).collect();
            let has = |c: TenderColumn| columns.contains(&Some(c));
            let answers = [
                TenderColumn::Response,
                TenderColumn::Deviation,
                TenderColumn::Marker,
                TenderColumn::Clause,
                TenderColumn::Position,
            ]
            .into_iter()
            .any(has);
            (has(TenderColumn::Requirement) && answers).then_some((i, columns))
        })
}

/// The deviation table of a list of grids (each with whether it directly follows the one before,
/// nothing but white space or page breaks between them).
fn read_grids(grids: &[(Grid, bool)]) -> Result<TenderTable, ExchangeError> {
    let mut found: Option<(Vec<String>, Vec<Option<TenderColumn>>)> = None;
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    let mut last_was_tender = false;
    for (grid, follows) in grids {
        match header_in(grid) {
            Some((at, columns)) => {
                let header = grid.rows[at].1.clone();
                let same = found
                    .as_ref()
                    .is_some_and(|(h, _)| folded_row(h) == folded_row(&header));
                if found.is_some() && !same {
                    // A second table of another shape (e.g. the commercial deviation table): the
                    // technical one came first and is the one read.
                    last_was_tender = false;
                    continue;
                }
                if found.is_none() {
                    found = Some((header, columns));
                }
                // The header repeated on the next page stays among the rows (they skip it), so
                // that rows are counted as a person counts them down the document.
                rows.extend(grid.rows[at..].iter().cloned());
                last_was_tender = true;
            }
            None if last_was_tender
                && *follows
                && found
                    .as_ref()
                    .is_some_and(|(h, _)| grid.rows.iter().all(|(_, r)| r.len() == h.len())) =>
            {
                // The table went on over a page break without repeating its header.
                rows.extend(grid.rows.iter().cloned());
            }
            None => last_was_tender = false,
        }
    }
    let Some((header, columns)) = found else {
        return Err(ExchangeError::MissingColumn {
            en: "\"requirement\" (招标要求, 技术参数要求, 采购需求) beside a response, deviation or \
                 clause column: no table of the file looks like a deviation table"
                .into(),
            zh: "招标要求（技术参数要求、采购需求），以及投标响应、偏离情况或条款号：文件中没有哪张表像技术偏离表"
                .into(),
        });
    };
    // The rows of a table are numbered from its header, as a person counts them in Word.
    Ok(read_rows(header, columns, rows))
}

fn folded_row(cells: &[String]) -> Vec<String> {
    cells.iter().map(|c| folded(c)).collect()
}

fn read_rows(
    header: Vec<String>,
    columns: Vec<Option<TenderColumn>>,
    rows: Vec<(u64, Vec<String>)>,
) -> TenderTable {
    let index = |c: TenderColumn| columns.iter().position(|x| *x == Some(c));
    let requirement_at = index(TenderColumn::Requirement);
    let category_at = index(TenderColumn::Category);
    let deviation_at = index(TenderColumn::Deviation);
    let marker_at = index(TenderColumn::Marker);
    let header_folded = folded_row(&header);
    let mut out = TenderTable {
        file: TenderFile::Csv,
        encoding: None,
        columns: header
            .iter()
            .cloned()
            .zip(columns.iter().copied())
            .collect(),
        has_deviation_column: deviation_at.is_some(),
        rows: Vec::new(),
        errors: Vec::new(),
    };
    let mut heading: Option<String> = None;
    let mut last_category: Option<String> = None;
    for (n, (line, cells)) in rows.iter().enumerate().skip(1) {
        // Word tables are numbered from their header; files keep their own line numbers.
        let line = if *line == 0 { n as u64 + 1 } else { *line };
        let cell = |at: Option<usize>| -> Option<String> {
            at.and_then(|i| cells.get(i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        if cells.iter().all(|c| c.trim().is_empty()) || folded_row(cells) == header_folded {
            continue; // blank, or the header repeated on a new page
        }
        if cells.iter().any(|c| c.contains('\u{FFFD}')) {
            out.errors.push(RowError::new(
                line,
                "the row holds bytes that are not text in the file's encoding: save the file as \
                 UTF-8 or GBK again",
                "此行含有无法按文件编码读出的字节：请将文件重新另存为 UTF-8 或 GBK",
            ));
            continue;
        }
        let filled: Vec<&str> = cells
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        let Some(requirement_text) = cell(requirement_at) else {
            if filled.len() == 1 || filled.windows(2).all(|w| w[0] == w[1]) {
                // A heading across the table: the module of the rows below.
                heading = Some(filled[0].to_string());
                continue;
            }
            out.errors.push(RowError::new(
                line,
                format!(
                    "the row has no requirement text (column \"{}\")",
                    header_name(&header, requirement_at)
                ),
                format!(
                    "此行没有招标要求（“{}”列为空）",
                    header_name(&header, requirement_at)
                ),
            ));
            continue;
        };
        let (text_marker, requirement) = Marker::leading(&requirement_text);
        let marker = match cell(marker_at) {
            None => text_marker.unwrap_or(Marker::Ordinary),
            Some(m) => match Marker::read(&m) {
                // An empty-looking marker column beside a ★ in the text: the text says it.
                Some(Marker::Ordinary) => text_marker.unwrap_or(Marker::Ordinary),
                Some(marker) => marker,
                None => {
                    out.errors.push(RowError::new(
                        line,
                        format!("the marker \"{m}\" cannot be read: write ★ (mandatory), ▲ (important) or leave it empty"),
                        format!("无法识别指标属性“{m}”：请填写 ★（实质性）、▲（重要）或留空"),
                    ));
                    continue;
                }
            },
        };
        let deviation = match deviation_at {
            None => Deviation::None,
            Some(_) => {
                let written = cell(deviation_at).unwrap_or_default();
                match Deviation::read(&written) {
                    Some(d) => d,
                    None if written.is_empty() => {
                        out.errors.push(RowError::new(
                            line,
                            "the deviation is empty: write 正偏离, 无偏离 or 负偏离",
                            "偏离情况为空：请填写正偏离、无偏离或负偏离",
                        ));
                        continue;
                    }
                    None => {
                        out.errors.push(RowError::new(
                            line,
                            format!("the deviation \"{written}\" cannot be read: write 正偏离 (positive), 无偏离 (none) or 负偏离 (negative)"),
                            format!("无法识别偏离情况“{written}”：请填写正偏离、无偏离或负偏离"),
                        ));
                        continue;
                    }
                }
            }
        };
        let category = cell(category_at)
            .or_else(|| category_at.and(last_category.clone()))
            .or_else(|| heading.clone());
        if category_at.is_some() {
            last_category = category.clone();
        }
        let note = cell(index(TenderColumn::Note));
        let evidence_page = cell(index(TenderColumn::Evidence));
        let evidence = Evidence::read(&format!(
            "{} {}",
            evidence_page.as_deref().unwrap_or(""),
            note.as_deref().unwrap_or("")
        ));
        out.rows.push(TenderRow {
            line,
            position: cell(index(TenderColumn::Position)),
            clause: cell(index(TenderColumn::Clause)),
            category,
            requirement: requirement.to_string(),
            marker,
            response: cell(index(TenderColumn::Response)),
            deviation,
            note,
            evidence,
            evidence_page,
        });
    }
    out
}

fn header_name(header: &[String], at: Option<usize>) -> String {
    at.and_then(|i| header.get(i)).cloned().unwrap_or_default()
}

/// The tables of a Word document, each with whether it directly follows the table before.
fn docx_tables(bytes: &[u8]) -> Result<Vec<(Grid, bool)>, ExchangeError> {
    let xml = crate::docx::document_xml(bytes)?;
    parse_document(&xml).map_err(crate::docx::unreadable)
}

/// One cell being read.
#[derive(Default)]
struct CellState {
    text: String,
    span: usize,
    /// `Some(true)` starts a vertical merge, `Some(false)` continues the one above.
    vmerge: Option<bool>,
}

fn parse_document(xml: &[u8]) -> Result<Vec<(Grid, bool)>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut tables: Vec<(Grid, bool)> = Vec::new();
    // Depth of nested tables: a table inside a cell is read as that cell's text.
    let mut depth = 0usize;
    let mut grid = Grid::default();
    let mut row: Vec<String> = Vec::new();
    let mut cell: Option<CellState> = None;
    let mut in_text = false;
    // Text written between the last table and this point (outside any table).
    let mut text_since_table = false;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        match event {
            Event::Eof => break,
            Event::Start(ref e) => match e.local_name().as_ref() {
                b"tbl" => {
                    depth += 1;
                    if depth == 1 {
                        grid = Grid::default();
                    }
                }
                b"tr" if depth == 1 => row.clear(),
                b"tc" if depth == 1 => {
                    cell = Some(CellState {
                        span: 1,
                        ..Default::default()
                    })
                }
                b"t" => in_text = true,
                _ => {}
            },
            Event::Empty(ref e) => match e.local_name().as_ref() {
                b"gridSpan" if depth == 1 => {
                    if let (Some(c), Some(v)) = (cell.as_mut(), attr(e, b"val")) {
                        c.span = v.parse::<usize>().unwrap_or(1).clamp(1, 64);
                    }
                }
                b"vMerge" if depth == 1 => {
                    if let Some(c) = cell.as_mut() {
                        c.vmerge = Some(attr(e, b"val").is_some_and(|v| v == "restart"));
                    }
                }
                b"tab" => push_text(&mut cell, depth, &mut text_since_table, " "),
                b"br" | b"cr" => push_text(&mut cell, depth, &mut text_since_table, "\n"),
                _ => {}
            },
            Event::Text(ref t) if in_text => {
                let s = t.decode().map_err(|e| e.to_string())?;
                push_text(&mut cell, depth, &mut text_since_table, &s);
            }
            Event::GeneralRef(ref r) if in_text => {
                let s = crate::docx::reference_text(r);
                push_text(&mut cell, depth, &mut text_since_table, &s);
            }
            Event::End(ref e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" if depth >= 1 => {
                    if let Some(c) = cell.as_mut() {
                        if !c.text.is_empty() && !c.text.ends_with('\n') {
                            c.text.push('\n');
                        }
                    }
                }
                b"tc" if depth == 1 => {
                    if let Some(c) = cell.take() {
                        let text = c.text.trim().to_string();
                        let at = row.len();
                        let text = match c.vmerge {
                            // A continued merge shows the text of the cell above.
                            Some(false) => grid
                                .rows
                                .last()
                                .and_then(|(_, above)| above.get(at).cloned())
                                .unwrap_or_default(),
                            _ => text,
                        };
                        row.push(text);
                        // The columns a spanned cell covers stay empty.
                        row.extend(std::iter::repeat_n(String::new(), c.span - 1));
                    }
                }
                // Word rows are numbered when the table is put together (line 0: "number me").
                b"tr" if depth == 1 => grid.rows.push((0, std::mem::take(&mut row))),
                b"tbl" => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        let follows = !text_since_table && !tables.is_empty();
                        tables.push((std::mem::take(&mut grid), follows));
                        text_since_table = false;
                    }
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    Ok(tables)
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

/// Text of the document: into the cell being read, or, outside tables, a sign that the tables
/// around it are not one table run over a page.
fn push_text(cell: &mut Option<CellState>, depth: usize, text_since_table: &mut bool, s: &str) {
    match cell.as_mut() {
        Some(c) if depth >= 1 => c.text.push_str(s),
        _ if depth == 0 && !s.trim().is_empty() => *text_since_table = true,
        _ => {}
    }
}
