//! A statement with its values, built as plain Rust and run by either dialect.
//!
//! Both SQLite and PostgreSQL number their placeholders `$1..$n`, so one text serves both.
//! Values are kept beside the text as [`Value`]s of the three column types the schema uses
//! (TEXT, BIGINT, DOUBLE), and bound only when a [`crate::dialect::Dialect`] runs the
//! statement: the store's code never names a database type.

/// One bound value. Booleans and times are stored as integers (0/1, milliseconds).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Real(Option<f64>),
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(Some(text))
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Value {
        Value::Text(Some(text.clone()))
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(Some(text.to_owned()))
    }
}

impl From<Option<String>> for Value {
    fn from(text: Option<String>) -> Value {
        Value::Text(text)
    }
}

impl From<&Option<String>> for Value {
    fn from(text: &Option<String>) -> Value {
        Value::Text(text.clone())
    }
}

impl From<Option<&str>> for Value {
    fn from(text: Option<&str>) -> Value {
        Value::Text(text.map(str::to_owned))
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(Some(n))
    }
}

impl From<Option<i64>> for Value {
    fn from(n: Option<i64>) -> Value {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Value {
        Value::Int(Some(i64::from(flag)))
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Real(Some(x))
    }
}

/// SQL text and the values of its placeholders, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statement {
    pub(crate) text: String,
    pub(crate) values: Vec<Value>,
}

impl Statement {
    /// A statement whose text already numbers its placeholders; [`Statement::bind`] gives
    /// their values in order.
    pub fn new(text: impl Into<String>) -> Statement {
        Statement {
            text: text.into(),
            values: Vec::new(),
        }
    }

    /// The value of the next numbered placeholder of the text.
    pub fn bind(mut self, value: impl Into<Value>) -> Statement {
        self.values.push(value.into());
        self
    }

    /// Appends text (for statements built piece by piece).
    pub fn push(&mut self, text: &str) -> &mut Statement {
        self.text.push_str(text);
        self
    }

    /// Appends the next placeholder and its value.
    pub fn push_bind(&mut self, value: impl Into<Value>) -> &mut Statement {
        self.values.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
        self
    }

    /// Appends `VALUES (..), (..)`: one parenthesised row per item, its values given by
    /// `row` in column order.
    pub fn push_values<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut row: impl FnMut(&mut Row<'_>, T),
    ) -> &mut Statement {
        self.text.push_str("VALUES ");
        for (n, item) in items.into_iter().enumerate() {
            if n > 0 {
                self.text.push_str(", ");
            }
            self.text.push('(');
            let mut columns = Row {
                statement: self,
                first: true,
            };
            row(&mut columns, item);
            self.text.push(')');
        }
        self
    }

    /// `IN ($a, $b, ...)` over the values; `IN (NULL)` (matching nothing) when empty.
    pub fn push_in<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        self.text.push_str(" IN (");
        let mut any = false;
        for value in values {
            if any {
                self.text.push_str(", ");
            }
            self.push_bind(value);
            any = true;
        }
        if !any {
            self.text.push_str("NULL");
        }
        self.text.push(')');
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn values(&self) -> &[Value] {
        &self.values
    }
}

/// The columns of one row of a `VALUES` list.
pub struct Row<'s> {
    statement: &'s mut Statement,
    first: bool,
}

impl Row<'_> {
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        if !self.first {
            self.statement.text.push_str(", ");
        }
        self.first = false;
        self.statement.push_bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_the_order_values_are_pushed() {
        let mut statement = Statement::new("SELECT doc FROM cases WHERE area LIKE ");
        statement
            .push_bind("31%")
            .push(" AND state")
            .push_in(["filed", "dispatched"]);
        statement.push(" LIMIT ").push_bind(50);
        assert_eq!(
            statement.text(),
            "SELECT doc FROM cases WHERE area LIKE $1 AND state IN ($2, $3) LIMIT $4"
        );
        assert_eq!(
            statement.values(),
            &[
                Value::from("31%"),
                Value::from("filed"),
                Value::from("dispatched"),
                Value::from(50)
            ]
        );
    }

    #[test]
    fn a_values_list_has_one_parenthesised_row_per_item() {
        let mut statement = Statement::new("INSERT INTO t (a, b) ");
        statement.push_values([(1, "x"), (2, "y")], |row, (n, s)| {
            row.bind(n as i64).bind(s);
        });
        assert_eq!(
            statement.text(),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(statement.values().len(), 4);
    }

    #[test]
    fn an_empty_in_list_matches_nothing() {
        let mut statement = Statement::new("SELECT 1 WHERE x");
        statement.push_in(Vec::<String>::new());
        assert_eq!(statement.text(), "SELECT 1 WHERE x IN (NULL)");
    }

    #[test]
    fn text_given_with_numbered_placeholders_takes_its_values_by_bind() {
        let statement = Statement::new("UPDATE t SET a = $1 WHERE id = $2")
            .bind(Some(3i64))
            .bind("k");
        assert_eq!(
            statement.values(),
            &[Value::Int(Some(3)), Value::Text(Some("k".into()))]
        );
    }
}
