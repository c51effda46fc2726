//! How a stored column becomes the value a row struct holds, for the columns whose stored form is
//! not the value itself. A row struct derives [`sqlx::FromRow`] and names the stored form of such
//! a field: `#[sqlx(try_from = "Cents")] pub contract_value: f64`. Enums of the contract are read
//! from their stored name with `#[sqlx(try_from = "String")]` (see `cunjin_core`'s
//! `TryFrom<String>`); ids are read as themselves (`cunjin_core::ids`).
//!
//! Both engines store the same forms, so that one query reads the same on SQLite and PostgreSQL:
//! money as whole cents, a flag as 0 or 1, a date as ISO `YYYY-MM-DD` text.

use chrono::NaiveDate;
use cunjin_core::Money;

/// An amount of money stored as whole cents (`BIGINT`), read as currency units.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub(crate) struct Cents(pub i64);

impl From<Cents> for f64 {
    fn from(c: Cents) -> f64 {
        Money::from_cents(c.0).units()
    }
}

impl From<Cents> for Money {
    fn from(c: Cents) -> Money {
        Money::from_cents(c.0)
    }
}

/// A yes/no stored as 0 or 1 (`INTEGER`: SQLite has no boolean column).
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub(crate) struct Flag(pub i64);

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0 != 0
    }
}

/// A date that may be absent, stored as ISO text.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub(crate) struct OptionalDate(pub Option<String>);

impl TryFrom<OptionalDate> for Option<NaiveDate> {
    type Error = BadDate;
    fn try_from(d: OptionalDate) -> Result<Self, BadDate> {
        d.0.map(|s| Date(s).try_into()).transpose()
    }
}

/// A date stored as ISO text.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub(crate) struct Date(pub String);

impl TryFrom<Date> for NaiveDate {
    type Error = BadDate;
    fn try_from(d: Date) -> Result<Self, BadDate> {
        NaiveDate::parse_from_str(&d.0, "%Y-%m-%d").map_err(|_| BadDate(d.0))
    }
}

/// A stored date that is not `YYYY-MM-DD`: the database was written by something else.
#[derive(Debug, thiserror::Error)]
#[error("stored date '{0}' is not YYYY-MM-DD")]
pub(crate) struct BadDate(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_forms_read_as_their_values() {
        assert_eq!(f64::from(Cents(123_456)), 1234.56);
        assert!(bool::from(Flag(1)));
        assert!(!bool::from(Flag(0)));
        assert_eq!(
            Option::<NaiveDate>::try_from(OptionalDate(Some("2026-03-01".into()))).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 1)
        );
        assert_eq!(
            Option::<NaiveDate>::try_from(OptionalDate(None)).unwrap(),
            None
        );
        let bad = NaiveDate::try_from(Date("01/03/2026".into())).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "stored date '01/03/2026' is not YYYY-MM-DD"
        );
    }
}
