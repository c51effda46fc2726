//! Files in and out of cunjin: bytes of a CSV or Excel (.xlsx) file, in UTF-8 (with or without
//! BOM), GBK or GB18030, with cunjin's own columns (English or Chinese) or those of a ZenTao,
//! Jira or Redmine export, become typed rows of requests, features and commitments; and lists
//! of records become CSV or .xlsx files again.
//!
//! Pure: no I/O, no database. Every row that cannot be read is reported with the line of the
//! file it is on (the header is line 1) and the reason in Chinese and English, so that a person
//! can fix the file and import it again.

pub mod acceptance;
pub mod columns;
pub mod decode;
pub mod docx;
pub mod rows;
pub mod table;
pub mod tender;

pub use columns::{Dialect, Kind};
pub use decode::{decode_text, TextEncoding};
pub use rows::{
    parse_commitments, parse_customers, parse_features, parse_requests, unused_text_columns,
    CommitmentRow, CriterionRow, CustomerRow, DealRow, FeatureRef, FeatureRow, Parsed, RequestRow,
    RowError, UnusedColumn, MET_MARK,
};
pub use table::{read_table, write_csv, write_xlsx, Container, Sheet, Table, TableRow};

/// A file that cannot be read at all (as opposed to one bad row).
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The CSV structure is broken beyond one row.
    #[error("CSV: {0} / CSV 文件无法读取")]
    Csv(String),
    /// The workbook cannot be opened.
    #[error("Excel: {0} / Excel 文件无法读取")]
    Xlsx(String),
    /// The file has no header line.
    #[error("the file is empty: the first line must name the columns / 文件为空：第一行应为列名")]
    Empty,
    /// A column that every row needs is missing.
    #[error("no column {en} in the header line / 表头缺少“{zh}”列")]
    MissingColumn {
        /// Column names accepted, in English.
        en: String,
        /// The same, in Chinese.
        zh: String,
    },
    /// This kind cannot come in this dialect.
    #[error("{0}")]
    Unsupported(String),
    /// Writing a workbook failed.
    #[error("cannot write the workbook: {0} / 无法生成 Excel 文件")]
    Write(String),
}
