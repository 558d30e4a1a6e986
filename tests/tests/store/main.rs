//! The store conformance suite: the same cases against both back ends, through the store's
//! own API with no server in between, so that a statement that behaves differently on
//! PostgreSQL and on SQLite fails here, named.

mod workers;

use aijia_orchestrator::store::{PoolConfig, Store};
use aijia_tests::TestDb;

/// The store on `db`, with a small pool: the suite shares one PostgreSQL server.
pub async fn open(db: &TestDb) -> Store {
    Store::connect_with(db.url(), &PoolConfig { max_connections: 3 })
        .await
        .unwrap_or_else(|e| panic!("opening the store at {}: {e:#}", db.url()))
}
