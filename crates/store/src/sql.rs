//! One way to write a query whose text depends on what it is given: [`Sql`] numbers each `$n`
//! placeholder as it binds the value, so a condition that is left out takes its placeholder
//! with it and no list of numbers has to be kept in step by hand.
//!
//! Only the filters given appear in the text. `($2 IS NULL OR c.customer_id = $2)` is not
//! written: neither engine can plan an index lookup for it, and a cached generic plan then reads
//! every row of the workspace.
//!
//! ```ignore
//! let mut q = Sql::new("SELECT id FROM deals WHERE workspace_id = ");
//! q.bind(workspace_id).and_eq("customer_id", filter.customer_id);
//! q.push(" ORDER BY id LIMIT ").bind(limit);
//! let ids: Vec<i64> = q.query_scalar().fetch_all(store.reader()).await?;
//! ```

use sqlx::any::{Any, AnyArguments};
use sqlx::query::{QueryAs, QueryScalar};
use sqlx::{Arguments, Encode, FromRow, Type};

/// A query text and the values bound to its placeholders, in order.
pub(crate) struct Sql<'q> {
    text: String,
    args: AnyArguments<'q>,
    count: usize,
    /// Whether the statement is prepared once and kept (sqlx's default) or planned afresh.
    persistent: bool,
}

impl<'q> Sql<'q> {
    /// A query starting with `text`, which holds no placeholder.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            args: AnyArguments::default(),
            count: 0,
            persistent: true,
        }
    }

    /// Appends `text`, which holds no placeholder.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends the next placeholder and binds `value` to it.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        self.count += 1;
        self.text.push('$');
        self.text.push_str(&self.count.to_string());
        // Encoding into the `Any` buffer only copies the value: it cannot fail for the types
        // the store binds (numbers, text, flags and their options).
        self.args
            .add(value)
            .expect("a value of a supported type is bound");
        self
    }

    /// Appends `text` then the next placeholder bound to `value`: `.push_bind(" AND id = ", id)`.
    pub(crate) fn push_bind<T>(&mut self, text: &str, value: T) -> &mut Self
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        self.push(text).bind(value)
    }

    /// ` AND {column} = $n` when `value` is given, nothing when it is not.
    pub(crate) fn and_eq<T>(&mut self, column: &str, value: Option<T>) -> &mut Self
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        if let Some(value) = value {
            self.push(" AND ").push(column).push(" = ").bind(value);
        }
        self
    }

    /// ` AND {column} {op} $n` when `value` is given (`op` one of `<`, `<=`, `>=`, `>`, `LIKE`).
    pub(crate) fn and_cmp<T>(&mut self, column: &str, op: &str, value: Option<T>) -> &mut Self
    where
        T: 'q + Encode<'q, Any> + Type<Any>,
    {
        if let Some(value) = value {
            self.push(" AND ")
                .push(column)
                .push(" ")
                .push(op)
                .push(" ")
                .bind(value);
        }
        self
    }

    /// Plans the statement afresh each time instead of keeping a prepared one: for lists whose
    /// best plan depends on the values (how rare a term is, which filters are set).
    pub(crate) fn planned_each_time(&mut self) -> &mut Self {
        self.persistent = false;
        self
    }

    /// How many values are bound so far.
    #[cfg(test)]
    pub(crate) fn bound(&self) -> usize {
        self.count
    }

    /// The query text as written so far.
    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The statement, reading each row into `O`.
    pub(crate) fn query_as<O>(&mut self) -> QueryAs<'_, Any, O, AnyArguments<'_>>
    where
        O: for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        let args: AnyArguments<'_> = std::mem::take(&mut self.args);
        sqlx::query_as_with(&self.text, args).persistent(self.persistent)
    }

    /// The statement, reading the first column of each row as `O`.
    pub(crate) fn query_scalar<O>(&mut self) -> QueryScalar<'_, Any, O, AnyArguments<'_>>
    where
        (O,): for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        let args: AnyArguments<'_> = std::mem::take(&mut self.args);
        sqlx::query_scalar_with(&self.text, args).persistent(self.persistent)
    }
}

#[cfg(test)]
mod tests {
    use super::Sql;

    #[test]
    fn placeholders_follow_the_values_bound() {
        let mut q = Sql::new("SELECT id FROM deals WHERE workspace_id = ");
        q.bind(7_i64)
            .and_eq("customer_id", None::<i64>)
            .and_eq("status", Some("open"))
            .and_cmp("signed_on", ">=", Some("2026-01-01".to_string()));
        q.push_bind(" LIMIT ", 10_i64);
        assert_eq!(
            q.text(),
            "SELECT id FROM deals WHERE workspace_id = $1 AND status = $2 \
             AND signed_on >= $3 LIMIT $4"
        );
        assert_eq!(q.bound(), 4);
    }

    #[test]
    fn a_filter_left_out_leaves_no_trace() {
        let mut q = Sql::new("SELECT 1 FROM t WHERE a = ");
        q.bind(1_i64)
            .and_eq("b", None::<&str>)
            .and_cmp("c", "<", None::<i64>);
        assert_eq!(q.text(), "SELECT 1 FROM t WHERE a = $1");
        assert_eq!(q.bound(), 1);
    }
}
