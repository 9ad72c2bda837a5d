//! The two schemas stay the same, and the store behaves the same on both databases.

use std::collections::BTreeSet;

use shouhou_store::{args, Db};
use shouhou_testkit::db_test;

async fn columns(db: &Db) -> BTreeSet<(String, String)> {
    let sql = match db.backend() {
        shouhou_store::Backend::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
             AND m.name NOT LIKE 'search_tri%' AND m.name NOT LIKE 'search_cjk%'"
        }
        shouhou_store::Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'"
        }
    };
    db.fetch_all::<(String, String)>(sql, vec![])
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn both_flavours_have_the_same_migration_versions() {
    let dir = |f: &str| -> BTreeSet<String> {
        std::fs::read_dir(format!("{}/migrations/{f}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(dir("sqlite"), dir("postgres"));
}

#[tokio::test]
async fn both_schemas_have_the_same_tables_and_columns() {
    let sqlite = shouhou_testkit::sqlite().await;
    let Some(pg) = shouhou_testkit::postgres().await else {
        sqlite.cleanup().await;
        return;
    };
    let (a, b) = (columns(&sqlite.db).await, columns(&pg.db).await);
    assert!(a.len() > 100, "only {} columns read", a.len());
    let only_sqlite: Vec<_> = a.difference(&b).collect();
    let only_pg: Vec<_> = b.difference(&a).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_sqlite:?}; only in PostgreSQL: {only_pg:?}"
    );
    sqlite.cleanup().await;
    pg.cleanup().await;
}

db_test!(unique_violations_map_to_conflict, |db: Db| async move {
    let now: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let mut tx = db.begin().await.unwrap();
    shouhou_store::repo::org_units::insert(
        &mut tx,
        None,
        "head_office",
        "HQ",
        "总部",
        None,
        None,
        None,
        now,
    )
    .await
    .unwrap();
    let e = shouhou_store::repo::org_units::insert(
        &mut tx, None, "store", "HQ", "重复", None, None, None, now,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, shouhou_store::StoreError::Conflict(_)), "{e:?}");
});

db_test!(
    a_rolled_back_transaction_leaves_nothing,
    |db: Db| async move {
        let now: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        {
            let mut tx = db.begin().await.unwrap();
            shouhou_store::repo::org_units::insert(
                &mut tx,
                None,
                "head_office",
                "HQ",
                "总部",
                None,
                None,
                None,
                now,
            )
            .await
            .unwrap();
            // dropped without commit
        }
        let (n,): (i64,) = db
            .fetch_one("SELECT COUNT(*) FROM org_units", args![])
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
);

db_test!(
    the_day_counter_is_safe_under_concurrency,
    |db: Db| async move {
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = db.begin().await.unwrap();
                let n = shouhou_store::work_orders::next_seq(&mut tx, "20260101")
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                n
            }));
        }
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap());
        }
        got.sort();
        assert_eq!(got, (1..=20).collect::<Vec<i64>>());
    }
);
