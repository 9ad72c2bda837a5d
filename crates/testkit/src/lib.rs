//! Test harness: fresh databases (SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set).

use shouhou_store::Db;

/// A fresh, migrated store for one test; `cleanup` removes it.
pub struct TestDb {
    pub db: Db,
    pub label: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

/// The PostgreSQL server URL of CI, if set.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub async fn sqlite() -> TestDb {
    let path = std::env::temp_dir().join(format!("shouhou-test-{}.db", uuid::Uuid::new_v4()));
    let db = Db::connect(path.to_str().expect("temp path is UTF-8"))
        .await
        .expect("open SQLite");
    db.migrate().await.expect("migrate SQLite");
    TestDb {
        db,
        label: "sqlite",
        cleanup: Cleanup::File(path),
    }
}

/// A fresh PostgreSQL database, or `None` (with a line saying so) without `TEST_DATABASE_URL`.
pub async fn postgres() -> Option<TestDb> {
    let Some(admin_url) = postgres_url() else {
        // Written past the test harness's capture so the skip is visible in every run.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED on PostgreSQL: TEST_DATABASE_URL is not set (CI sets it)"
        );
        return None;
    };
    let name = format!("shouhou_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Db::connect(&admin_url)
        .await
        .expect("connect TEST_DATABASE_URL");
    admin
        .execute(&format!("CREATE DATABASE {name}"), vec![])
        .await
        .expect("create test database");
    admin.close().await;
    let url = with_database(&admin_url, &name);
    let db = Db::connect(&url).await.expect("connect test database");
    db.migrate().await.expect("migrate PostgreSQL");
    Some(TestDb {
        db,
        label: "postgres",
        cleanup: Cleanup::Database { admin_url, name },
    })
}

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// The address `shouhou --db` takes for this store (a file path or a `postgres://` URL).
    pub fn url(&self) -> String {
        match &self.cleanup {
            Cleanup::File(p) => p.display().to_string(),
            Cleanup::Database { admin_url, name } => with_database(admin_url, name),
        }
    }

    pub async fn cleanup(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::File(p) => {
                for ext in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = Db::connect(&admin_url).await {
                    let _ = admin
                        .execute(
                            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                            vec![],
                        )
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}

/// Every store this machine can test: SQLite, and PostgreSQL when configured.
pub async fn all_dbs() -> Vec<TestDb> {
    let mut v = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        v.push(pg);
    }
    v
}

/// Declares one test per database: `db_test!(name, |db: Db| async move { … });` expands to a
/// module `name` with `sqlite` and `postgres` tests; the PostgreSQL one says why it skips.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::sqlite().await;
                ($body)(t.db.clone()).await;
                t.cleanup().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = $crate::postgres().await else {
                    return;
                };
                ($body)(t.db.clone()).await;
                t.cleanup().await;
            }
        }
    };
}

pub mod fixture;
pub mod http;
pub use fixture::{days_ago, seed, spawn_app, spawn_state, test_app, Fixture, TestServer};
