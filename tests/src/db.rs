//! A fresh database per test: a new schema in the PostgreSQL test database, or a new SQLite
//! file in a temporary directory. The server runs its migrations into it on start-up.

use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::{ConnectOptions, Connection, PgConnection, SqliteConnection};
use tempfile::TempDir;

/// Where the PostgreSQL tests connect unless `AIJIA_TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// How long to wait for PostgreSQL before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why PostgreSQL was found unreachable, once: later tests do not wait for it again.
static UNREACHABLE: OnceLock<String> = OnceLock::new();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// One test's own database. Cheap to clone; the SQLite directory lives as long as any clone.
#[derive(Debug, Clone)]
pub struct TestDb {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    url: String,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Postgres { admin_url: String, schema: String },
    Sqlite { _dir: TempDir },
}

impl TestDb {
    /// A fresh schema in the PostgreSQL test database, or `None` (after one line on stderr)
    /// when PostgreSQL is not reachable and the environment does not require it. With `CI` set
    /// or `AIJIA_REQUIRE_POSTGRES=1`, an unreachable PostgreSQL fails the test instead.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let admin_url = std::env::var("AIJIA_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned());
        let connected = match UNREACHABLE.get() {
            Some(err) => Err(err.clone()),
            None => connect_pg(&admin_url).await,
        };
        let mut admin = match connected {
            Ok(conn) => conn,
            Err(err) => {
                let _ = UNREACHABLE.set(err.clone());
                let at = redact(&admin_url);
                assert!(
                    !postgres_required(),
                    "{test}: PostgreSQL is required here (CI or AIJIA_REQUIRE_POSTGRES=1) but not \
                     reachable at {at}: {err}"
                );
                // Straight to stderr, past the test harness's capture, so the skip shows.
                let _ = writeln!(
                    std::io::stderr(),
                    "skipping {test}: PostgreSQL not reachable at {at} ({err})"
                );
                return None;
            }
        };
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("{test}: creating schema {schema}: {e}"));
        let _ = admin.close().await;
        // Every connection of the server's pool starts with this search path, so its migrations
        // and queries stay inside the schema.
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Some(TestDb {
            inner: Arc::new(Inner {
                url,
                kind: Kind::Postgres { admin_url, schema },
            }),
        })
    }

    /// A fresh SQLite file in a temporary directory (created by the server on start-up).
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::Builder::new()
            .prefix("aijia-test-")
            .tempdir()
            .expect("creating a temporary directory for SQLite");
        let url = format!("sqlite:{}", dir.path().join("aijia.db").display());
        TestDb {
            inner: Arc::new(Inner {
                url,
                kind: Kind::Sqlite { _dir: dir },
            }),
        }
    }

    /// The url to give the server.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    pub fn backend(&self) -> Backend {
        match self.inner.kind {
            Kind::Postgres { .. } => Backend::Postgres,
            Kind::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// A direct connection to this test's PostgreSQL schema, to look under the server.
    pub async fn pg(&self) -> PgConnection {
        assert_eq!(
            self.backend(),
            Backend::Postgres,
            "not a PostgreSQL test database"
        );
        connect_pg(self.url())
            .await
            .expect("connecting to the test schema")
    }

    /// A direct connection to this test's SQLite file, to look under the server.
    pub async fn sqlite_conn(&self) -> SqliteConnection {
        assert_eq!(
            self.backend(),
            Backend::Sqlite,
            "not a SQLite test database"
        );
        SqliteConnection::connect(self.url())
            .await
            .expect("opening the test SQLite file")
    }

    /// Runs one statement directly on this test's database, under the server.
    pub async fn execute(&self, sql: &'static str) {
        let done = match self.backend() {
            Backend::Postgres => sqlx::query(sql)
                .execute(&mut self.pg().await)
                .await
                .map(|_| ()),
            Backend::Sqlite => sqlx::query(sql)
                .execute(&mut self.sqlite_conn().await)
                .await
                .map(|_| ()),
        };
        done.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Drops the PostgreSQL schema (best effort); the SQLite directory goes with the last clone.
    pub async fn cleanup(self) {
        if let Kind::Postgres { admin_url, schema } = &self.inner.kind
            && let Ok(mut admin) = connect_pg(admin_url).await
        {
            let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut admin)
                .await
            {
                eprintln!("could not drop test schema {schema}: {e}");
            }
            let _ = admin.close().await;
        }
    }
}

fn postgres_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty())
        || std::env::var("AIJIA_REQUIRE_POSTGRES").is_ok_and(|v| v.trim() == "1")
}

async fn connect_pg(url: &str) -> Result<PgConnection, String> {
    let options: sqlx::postgres::PgConnectOptions =
        url.parse().map_err(|e: sqlx::Error| e.to_string())?;
    match tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await {
        Ok(conn) => conn.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {CONNECT_TIMEOUT:?}")),
    }
}

/// The url without its password, for messages.
fn redact(url: &str) -> String {
    aijia_orchestrator::server::redact(url)
}
