//! Reading the data files of `sample/data/`: UTF-8, one record a line, fields separated by
//! tabs; blank lines and lines starting with `#` (the header naming the columns) are skipped.
//! The files are compiled in, so a bad one is a bug of the build: its unit tests parse them all.

use std::fmt::Display;
use std::str::FromStr;

use crate::{Result, StoreError};

/// One line of a data file, read field by field.
pub(super) struct Record {
    file: &'static str,
    line: usize,
    fields: std::str::Split<'static, char>,
}

/// The records of `text`, the contents of the data file `file`.
pub(super) fn records(file: &'static str, text: &'static str) -> impl Iterator<Item = Record> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(move |(i, l)| Record {
            file,
            line: i + 1,
            fields: l.split('\t'),
        })
}

impl Record {
    /// The next field as it is (empty when the line has no more).
    pub(super) fn text(&mut self) -> &'static str {
        self.fields.next().unwrap_or("")
    }

    /// The next field, which must not be empty.
    pub(super) fn required(&mut self, what: &str) -> std::result::Result<&'static str, String> {
        match self.text() {
            "" => Err(self.bad(format_args!("no {what}"))),
            s => Ok(s),
        }
    }

    /// The next field, or `None` when it is empty.
    pub(super) fn optional(&mut self) -> Option<&'static str> {
        Some(self.text()).filter(|s| !s.is_empty())
    }

    /// The next field through `parse` (a number, `true`/`false`, an enum's contract name…).
    pub(super) fn parse<T, E: Display>(
        &mut self,
        what: &str,
        parse: impl FnOnce(&'static str) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, String> {
        let field = self.text();
        parse(field).map_err(|e| self.bad(format_args!("{what} '{field}': {e}")))
    }

    /// The next field as a number or `true`/`false`.
    pub(super) fn value<T: FromStr>(&mut self, what: &str) -> std::result::Result<T, String>
    where
        T::Err: Display,
    {
        self.parse(what, str::parse)
    }

    /// The next field as an index into a list of `len` records.
    pub(super) fn index(&mut self, what: &str, len: usize) -> std::result::Result<usize, String> {
        let i: usize = self.value(what)?;
        if i >= len {
            return Err(self.bad(format_args!("no {what} {i} (there are {len})")));
        }
        Ok(i)
    }

    /// An error at this line.
    pub(super) fn bad(&self, what: impl Display) -> String {
        format!("{}:{}: {what}", self.file, self.line)
    }
}

/// The parsed contents of a data file as the store's error.
pub(super) fn loaded<T>(parsed: &std::result::Result<T, String>) -> Result<&T> {
    parsed
        .as_ref()
        .map_err(|e| StoreError::Corrupt(format!("sample data: {e}")))
}
