//! What the benchmarks share: where PostgreSQL is, and a fresh database per run (a schema of
//! its own on PostgreSQL, a file in a directory of its own on SQLite), removed afterwards.

use aijia_proto::v1 as pb;
use anyhow::Context;
use sqlx::Connection;

/// The setting `name` from the environment, or `default`.
pub fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Who the benchmarks act as.
pub fn actor(role: &str) -> pb::Actor {
    pb::Actor {
        role: role.into(),
        id: "bench".into(),
    }
}

/// The request that opens the case `key` of `workflow_type` (request id and business key
/// both from `key`).
pub fn start_request(workflow_type: &str, key: &str) -> pb::StartCaseRequest {
    pb::StartCaseRequest {
        request_id: format!("bench-start-{key}"),
        workflow_type: workflow_type.into(),
        business_key: format!("bench-{key}"),
        customer: Some(pb::CustomerRef {
            id: format!("c-{key}"),
            display_name: "Bench".into(),
        }),
        subject: "benchmark".into(),
        owner: "bench".into(),
        attributes: Default::default(),
        actor: Some(actor("backend")),
    }
}

/// `AIJIA_BENCH_DATABASE_URL`, or the local test database.
pub fn database_url() -> String {
    std::env::var("AIJIA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh database for one run.
pub enum Db {
    Postgres {
        admin: sqlx::PgConnection,
        schema: String,
        url: String,
    },
    Sqlite {
        _dir: DirGuard,
        url: String,
    },
}

/// Removes the SQLite run's directory at the end.
pub struct DirGuard(std::path::PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Db {
    pub async fn create(backend: &str, base: &str) -> anyhow::Result<Db> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        match backend {
            "postgres" => {
                let schema = format!("bench_{id}");
                let mut admin = sqlx::PgConnection::connect(base)
                    .await
                    .context("while connecting to PostgreSQL")?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut admin)
                    .await?;
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                Ok(Db::Postgres { admin, schema, url })
            }
            "sqlite" => {
                let dir = std::env::temp_dir().join(format!("aijia-bench-{id}"));
                std::fs::create_dir_all(&dir)?;
                let url = format!("sqlite:{}", dir.join("aijia.db").display());
                Ok(Db::Sqlite {
                    _dir: DirGuard(dir),
                    url,
                })
            }
            other => anyhow::bail!("unknown backend {other:?}: postgres or sqlite"),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Db::Postgres { url, .. } | Db::Sqlite { url, .. } => url,
        }
    }

    pub async fn drop(self) -> anyhow::Result<()> {
        if let Db::Postgres {
            mut admin, schema, ..
        } = self
        {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut admin)
                .await?;
        }
        Ok(())
    }
}
