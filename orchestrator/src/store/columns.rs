//! Reading stored rows the same way on both back ends. The column types differ (JSONB and
//! TIMESTAMPTZ on PostgreSQL; TEXT holding JSON and INTEGER microseconds on SQLite), what the
//! rows mean does not: each kind of row is mapped to its struct once, over [`Columns`], next
//! to the struct (`store/{mod,review,tasks,schedules,automation}.rs`). Times go through
//! [`Time`], which knows both encodings.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::types::Json;
use uuid::Uuid;

use super::StoreError;
use super::time::Time;

/// One stored row, column by column, whatever the back end.
pub(crate) trait Columns {
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
    fn uuid(&self, column: &str) -> Result<Uuid, StoreError>;
    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    fn opt_json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>, StoreError>;

    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.opt_text(column)?.ok_or_else(|| missing(column))
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.opt_int(column)?.ok_or_else(|| missing(column))
    }

    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        self.opt_time(column)?.ok_or_else(|| missing(column))
    }

    fn json<T: DeserializeOwned>(&self, column: &str) -> Result<T, StoreError> {
        self.opt_json(column)?.ok_or_else(|| missing(column))
    }
}

fn missing(column: &str) -> StoreError {
    StoreError::Corrupt {
        what: "stored row",
        detail: format!("column {column} is NULL"),
    }
}

fn corrupt(column: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt {
        what: "stored row",
        detail: format!("column {column}: {e}"),
    }
}

impl Columns for PgRow {
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.try_get(column).map_err(corrupt(column))
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        // BIGINT and INTEGER columns both read as i64.
        match self.try_get::<Option<i64>, _>(column) {
            Ok(n) => Ok(n),
            Err(_) => self
                .try_get::<Option<i32>, _>(column)
                .map(|n| n.map(i64::from))
                .map_err(corrupt(column)),
        }
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        self.try_get(column).map_err(corrupt(column))
    }

    fn uuid(&self, column: &str) -> Result<Uuid, StoreError> {
        self.try_get(column).map_err(corrupt(column))
    }

    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.try_get::<Option<Time>, _>(column)
            .map(|t| t.map(|t| t.0))
            .map_err(corrupt(column))
    }

    fn opt_json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>, StoreError> {
        self.try_get::<Option<Json<T>>, _>(column)
            .map(|j| j.map(|j| j.0))
            .map_err(corrupt(column))
    }
}

impl Columns for SqliteRow {
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.try_get(column).map_err(corrupt(column))
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.try_get(column).map_err(corrupt(column))
    }

    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        self.try_get(column).map_err(corrupt(column))
    }

    fn uuid(&self, column: &str) -> Result<Uuid, StoreError> {
        self.try_get(column).map_err(corrupt(column))
    }

    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.try_get::<Option<Time>, _>(column)
            .map(|t| t.map(|t| t.0))
            .map_err(corrupt(column))
    }

    fn opt_json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>, StoreError> {
        self.try_get::<Option<&str>, _>(column)
            .map_err(corrupt(column))?
            .map(|text| {
                serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
                    what: "stored row",
                    detail: format!("column {column}: {e}"),
                })
            })
            .transpose()
    }
}
