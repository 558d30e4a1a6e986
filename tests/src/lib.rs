//! The end-to-end test harness (the tests themselves are in `tests/e2e/`).
//!
//! - [`db`]: a fresh database per test: a PostgreSQL schema or a SQLite file.
//! - [`app`]: [`spawn_app`] starts the real server in this process on a loopback port, with a
//!   connected client and a manual clock.
//! - [`process`]: the real binary as a child process, for tests that `SIGKILL` it.
//! - [`requests`]: builders for requests and signal events.
//! - [`on_both_stores!`]: one test body, run against PostgreSQL and against SQLite.

pub mod app;
pub mod db;
pub mod process;
pub mod requests;

use std::future::Future;

pub use app::{TestApp, automate_templated_activities, expect_status, spawn_app, spawn_app_with};
pub use db::{Backend, TestDb};

#[doc(hidden)]
pub use pastey as __pastey;

/// `on_both_stores!(name);` beside `async fn name(db: TestDb) { … }` makes the tests
/// `name_postgres` and `name_sqlite`, each running the body on a fresh database of its kind.
/// Attributes written before the name (e.g. `#[ignore = "…"]`) apply to both. Without a
/// reachable PostgreSQL the `_postgres` test prints why and passes, unless `CI` or
/// `AIJIA_REQUIRE_POSTGRES=1` is set.
#[macro_export]
macro_rules! on_both_stores {
    ($(#[$meta:meta])* $name:ident) => {
        $crate::on_postgres!($(#[$meta])* $name);
        $crate::on_sqlite!($(#[$meta])* $name);
    };
}

/// Like [`on_both_stores!`], for a test that runs on SQLite only (checks at the edge that no
/// store sees): `name_sqlite`.
#[macro_export]
macro_rules! on_sqlite {
    ($(#[$meta:meta])* $name:ident) => {
        $crate::__pastey::paste! {
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread")]
            async fn [<$name _sqlite>]() {
                $crate::run($crate::TestDb::sqlite().await, $name).await;
            }
        }
    };
}

/// Like [`on_both_stores!`], for a test that runs on PostgreSQL only: `name_postgres`.
#[macro_export]
macro_rules! on_postgres {
    ($(#[$meta:meta])* $name:ident) => {
        $crate::__pastey::paste! {
            $(#[$meta])*
            #[tokio::test(flavor = "multi_thread")]
            async fn [<$name _postgres>]() {
                let test = concat!(module_path!(), "::", stringify!([<$name _postgres>]));
                if let Some(db) = $crate::TestDb::postgres(test).await {
                    $crate::run(db, $name).await;
                }
            }
        }
    };
}

/// Runs a test body on `db`, and drops the database only when the body passed (a failed
/// test's PostgreSQL schema stays behind to be looked at).
pub async fn run<F, Fut>(db: TestDb, body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let keep = db.clone();
    body(db).await;
    keep.cleanup().await;
}
