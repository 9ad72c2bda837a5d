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

/// A head office unit, code "HQ", inside `tx`.
async fn head_office(
    tx: &mut shouhou_store::Tx,
    now: chrono::DateTime<chrono::Utc>,
) -> shouhou_store::Result<i64> {
    shouhou_store::repo::org_units::insert(
        tx,
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

/// The days (keys) of every row of `wo_counters`.
async fn counter_days(db: &Db) -> BTreeSet<String> {
    db.fetch_all::<(String,)>("SELECT day FROM wo_counters", args![])
        .await
        .unwrap()
        .into_iter()
        .map(|(d,)| d)
        .collect()
}

db_test!(unique_violations_map_to_conflict, |db: Db| async move {
    let now: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let mut tx = db.begin().await.unwrap();
    head_office(&mut tx, now).await.unwrap();
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
            head_office(&mut tx, now).await.unwrap();
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

db_test!(
    concurrent_writers_commit_together_each_seeing_its_own_outcome,
    |db: Db| async move {
        // On SQLite concurrent transactions share the writer's batches (group commit): each
        // one that commits is readable as soon as its commit returns; one dropped without
        // commit, or failing on a conflict, leaves nothing, whatever else its batch held.
        let mut tasks = Vec::new();
        for i in 0..120 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("k{i:03}");
                let mut tx = db.begin().await.unwrap();
                tx.execute(
                    "INSERT INTO wo_counters (day, last) VALUES ($1, $2)",
                    args![key.as_str(), i as i64],
                )
                .await
                .unwrap();
                match i % 6 {
                    // Dropped without commit (an error path of a handler).
                    1 => {
                        tokio::task::yield_now().await;
                        drop(tx);
                        None
                    }
                    // A second write refused by the unique key: the handler gives up.
                    2 => {
                        let e = tx
                            .execute(
                                "INSERT INTO wo_counters (day, last) VALUES ($1, 0)",
                                args![key.as_str()],
                            )
                            .await
                            .unwrap_err();
                        assert!(matches!(e, shouhou_store::StoreError::Conflict(_)), "{e}");
                        None
                    }
                    _ => {
                        tx.commit().await.unwrap();
                        let (last,): (i64,) = db
                            .fetch_one(
                                "SELECT last FROM wo_counters WHERE day = $1",
                                args![key.as_str()],
                            )
                            .await
                            .unwrap();
                        assert_eq!(last, i as i64, "{key} is readable once committed");
                        Some(key)
                    }
                }
            }));
        }
        let mut committed = BTreeSet::new();
        for t in tasks {
            committed.extend(t.await.unwrap());
        }
        let stored = counter_days(&db).await;
        assert_eq!(committed.len(), 80);
        assert_eq!(stored, committed);
        // The writer is free again: an autocommit statement and a new transaction both run.
        db.execute("DELETE FROM wo_counters WHERE day = 'k000'", args![])
            .await
            .unwrap();
        let mut tx = db.begin().await.unwrap();
        tx.execute("DELETE FROM wo_counters", args![])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let (n,): (i64,) = db
            .fetch_one("SELECT COUNT(*) FROM wo_counters", args![])
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
);

db_test!(
    a_statement_counts_only_the_rows_it_changed,
    |db: Db| async move {
        // A transaction's first statement, and an autocommit one, must count their own rows
        // only (optimistic checks read `n == 1`), not those of the statement before them on
        // the connection (SQLite's count for a statement that changes nothing, such as the
        // SAVEPOINT that opens a transaction on the writer).
        let mut tx = db.begin().await.unwrap();
        tx.execute(
            "INSERT INTO wo_counters (day, last) VALUES ('a', 1), ('b', 1), ('c', 1)",
            args![],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let n = tx
            .execute(
                "UPDATE wo_counters SET last = 2 WHERE day = 'none'",
                args![],
            )
            .await
            .unwrap();
        assert_eq!(n, 0, "first statement of a transaction");
        let n = tx
            .execute("UPDATE wo_counters SET last = 2 WHERE day = 'a'", args![])
            .await
            .unwrap();
        assert_eq!(n, 1);
        tx.commit().await.unwrap();
        let n = db
            .execute(
                "INSERT INTO wo_counters (day, last) VALUES ('a', 1) ON CONFLICT (day) DO NOTHING",
                args![],
            )
            .await
            .unwrap();
        assert_eq!(n, 0, "an autocommit statement that changed nothing");
    }
);

db_test!(
    a_batch_stays_whole_when_first_statements_fail_and_transactions_run_nothing,
    |db: Db| async move {
        // On SQLite a transaction's savepoint is opened by its first statement, and the one
        // committed before it is released by that same script: a first statement that fails,
        // and transactions that commit or are dropped having run nothing, must neither lose
        // nor keep anything of another transaction of the batch.
        db.execute(
            "INSERT INTO wo_counters (day, last) VALUES ('taken', 0)",
            args![],
        )
        .await
        .unwrap();
        let mut tasks = Vec::new();
        for i in 0..150 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("f{i:03}");
                let mut tx = db.begin().await.unwrap();
                match i % 5 {
                    // The first statement is refused (the key is taken), then a second one
                    // runs before the handler gives up: neither stays.
                    1 => {
                        let e = tx
                            .execute(
                                "INSERT INTO wo_counters (day, last) VALUES ('taken', $1)",
                                args![i as i64],
                            )
                            .await
                            .unwrap_err();
                        assert!(matches!(e, shouhou_store::StoreError::Conflict(_)), "{e}");
                        let after = tx
                            .execute(
                                "INSERT INTO wo_counters (day, last) VALUES ($1, 1)",
                                args![key.as_str()],
                            )
                            .await;
                        // PostgreSQL refuses anything more in a failed transaction.
                        assert!(
                            after.is_ok() || db.backend() == shouhou_store::Backend::Postgres,
                            "{after:?}"
                        );
                        None
                    }
                    // Committed having run nothing.
                    2 => {
                        tx.commit().await.unwrap();
                        None
                    }
                    // Dropped having run nothing.
                    3 => {
                        tokio::task::yield_now().await;
                        drop(tx);
                        None
                    }
                    _ => {
                        tx.execute(
                            "INSERT INTO wo_counters (day, last) VALUES ($1, $2)",
                            args![key.as_str(), i as i64],
                        )
                        .await
                        .unwrap();
                        tx.commit().await.unwrap();
                        Some(key)
                    }
                }
            }));
        }
        let mut committed = BTreeSet::from(["taken".to_string()]);
        for t in tasks {
            committed.extend(t.await.unwrap());
        }
        let stored = counter_days(&db).await;
        assert_eq!(committed.len(), 61);
        assert_eq!(stored, committed);
        let (last,): (i64,) = db
            .fetch_one("SELECT last FROM wo_counters WHERE day = 'taken'", args![])
            .await
            .unwrap();
        assert_eq!(last, 0, "the refused statements changed nothing");
    }
);

db_test!(
    list_totals_are_exact_up_to_the_cap_then_say_more,
    |db: Db| async move {
        use shouhou_store::repo::{paged, Page, Paged};
        use shouhou_store::scope::Sql;
        let cap = Paged::<()>::TOTAL_CAP;
        let rows: Vec<Vec<shouhou_store::Arg>> = (0..cap + 5)
            .map(|i| args![format!("d{i:06}"), i % 100])
            .collect();
        let mut tx = db.begin().await.unwrap();
        tx.bulk_insert("wo_counters", &["day", "last"], rows)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let list = |filter: Option<i64>, page: Page| {
            let db = db.clone();
            async move {
                let mut q = Sql::new("SELECT day, last FROM wo_counters WHERE 1 = 1");
                if let Some(l) = filter {
                    q.push_bind(" AND last = {}", l);
                }
                paged::<(String, i64)>(&db, q, "day DESC", page)
                    .await
                    .unwrap()
            }
        };
        // More match than the cap: the total stops there and says so; the page is the page.
        let all = list(None, Page::first(20)).await;
        assert_eq!((all.total, all.total_capped), (cap, true));
        assert_eq!(all.total_text(), format!("{cap}+"));
        assert_eq!(all.items.len(), 20);
        assert_eq!(all.items[0].0, format!("d{:06}", cap + 4));
        assert!(all.has_more());
        // A page past the cap still answers its rows.
        let deep = list(
            None,
            Page {
                limit: 20,
                offset: cap,
            },
        )
        .await;
        assert_eq!(deep.items.len(), 5);
        // The last page (not full, not empty) knows the total exactly, even past the cap.
        assert_eq!((deep.total, deep.total_capped), (cap + 5, false));
        assert!(!deep.has_more());
        // Past the end: no rows, and the total is counted.
        let beyond = list(
            Some(7),
            Page {
                limit: 20,
                offset: 500,
            },
        )
        .await;
        assert!(beyond.items.is_empty());
        assert_eq!((beyond.total, beyond.total_capped), (100, false));
        // Nothing matches: an exact zero.
        let none = list(Some(100), Page::first(20)).await;
        assert_eq!(
            (none.items.len(), none.total, none.total_capped),
            (0, 0, false)
        );
        // Fewer match: the total is exact, and the last page has nothing after it.
        let some = list(
            Some(7),
            Page {
                limit: 50,
                offset: 90,
            },
        )
        .await;
        assert_eq!((some.total, some.total_capped), (100, false));
        assert_eq!(some.items.len(), 10);
        assert!(!some.has_more());
        assert_eq!(some.total_text(), "100");
    }
);

/// Migration 0010 on a store whose SLA rules were kept in minutes: the durations become hours,
/// urgent rules run around the clock, the others in working hours.
#[tokio::test]
async fn sla_rules_in_minutes_become_hours_on_a_clock() {
    use sqlx::migrate::Migrator;
    use std::borrow::Cow;
    async fn migrators(flavour: &str) -> (Migrator, Migrator) {
        let dir = format!("{}/migrations/{flavour}", env!("CARGO_MANIFEST_DIR"));
        let all = Migrator::new(std::path::Path::new(&dir)).await.unwrap();
        let mut before = Migrator::new(std::path::Path::new(&dir)).await.unwrap();
        before.migrations = Cow::Owned(
            all.migrations
                .iter()
                .filter(|m| m.version < 10)
                .cloned()
                .collect(),
        );
        (before, all)
    }
    const OLD: &str =
        "INSERT INTO sla_rules (priority, tier, respond_minutes, arrive_minutes, resolve_minutes) \
         VALUES ('urgent', NULL, 30, 240, 1440), ('normal', 'vip', 90, 480, 2880)";
    const NEW: &str = "SELECT priority, clock, respond_hours, arrive_hours, resolve_hours FROM sla_rules ORDER BY id";
    let want = vec![
        (
            "urgent".to_string(),
            "around_the_clock".to_string(),
            0.5,
            4.0,
            24.0,
        ),
        (
            "normal".to_string(),
            "working_hours".to_string(),
            1.5,
            8.0,
            48.0,
        ),
    ];
    // SQLite.
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let (before, all) = migrators("sqlite").await;
    before.run(&pool).await.unwrap();
    sqlx::query(OLD).execute(&pool).await.unwrap();
    all.run(&pool).await.unwrap();
    let got: Vec<(String, String, f64, f64, f64)> =
        sqlx::query_as(NEW).fetch_all(&pool).await.unwrap();
    assert_eq!(got, want, "SQLite");
    pool.close().await;
    // PostgreSQL, when there is one.
    let Some(admin_url) = shouhou_testkit::postgres_url() else {
        return;
    };
    let name = format!("shouhou_mig_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let pool = sqlx::PgPool::connect(&shouhou_testkit::with_database(&admin_url, &name))
        .await
        .unwrap();
    let (before, all) = migrators("postgres").await;
    before.run(&pool).await.unwrap();
    sqlx::query(OLD).execute(&pool).await.unwrap();
    all.run(&pool).await.unwrap();
    let got: Vec<(String, String, f64, f64, f64)> =
        sqlx::query_as(NEW).fetch_all(&pool).await.unwrap();
    pool.close().await;
    // A closed pool's sessions may still be ending on the server: force them off.
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(got, want, "PostgreSQL");
}

db_test!(
    lookup_finds_common_fragments_and_rare_ones_past_the_first_documents,
    |db: Db| async move {
        use shouhou_store::search::{customer_doc, lookup};
        use shouhou_store::Arg;
        let now: chrono::DateTime<chrono::Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut tx = db.begin().await.unwrap();
        let unit = head_office(&mut tx, now).await.unwrap();
        // 3,000 customers: nearly all on one street (a fragment far more common than a page),
        // 30 in another city from the 2,101st on (more than a page, none among the first
        // 2,000 documents), and one rare name with a phone and a Latin name near the end.
        let (mut customers, mut docs) = (Vec::new(), Vec::new());
        for i in 1..=3000_i64 {
            let (name, address) = match i {
                2101..=2130 => (format!("顾客{i}"), "宁波市鄞州区天童路1号".to_string()),
                2990 => (
                    "欧阳锋 Ouyang Feng".to_string(),
                    "杭州市西湖区白沙路".to_string(),
                ),
                _ => (format!("顾客{i}"), format!("杭州市西湖区文三路{i}号")),
            };
            let phone = if i == 2990 {
                "13912345678".to_string()
            } else {
                format!("1380000{i:04}")
            };
            let (doc, cjk) = customer_doc(&name, &[phone], &[address]);
            customers.push(vec![
                Arg::from(i),
                unit.into(),
                name.into(),
                "person".into(),
                "normal".into(),
                now.into(),
                now.into(),
            ]);
            docs.push(vec![
                Arg::from("customer"),
                i.into(),
                unit.into(),
                doc.into(),
                cjk.into(),
            ]);
        }
        tx.bulk_insert(
            "customers",
            &[
                "id",
                "org_unit_id",
                "name",
                "kind",
                "tier",
                "created_at",
                "updated_at",
            ],
            customers,
        )
        .await
        .unwrap();
        tx.bulk_insert(
            "search_docs",
            &["kind", "ref_id", "org_unit_id", "doc", "cjk"],
            docs,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        if db.backend() == shouhou_store::db::Backend::Postgres {
            db.execute("ANALYZE search_docs", args![]).await.unwrap();
        }
        // A user of the unit (a scope of few documents: on SQLite read one by one through the
        // unit index) and head office (the whole org: the full-text index) find the same.
        let scoped = shouhou_store::scope::Visibility::everything(vec![unit]);
        let whole = shouhou_store::scope::Visibility {
            all_units: true,
            ..scoped.clone()
        };
        for vis in [scoped, whole] {
            let found = |q: &'static str| {
                let (db, vis) = (db.clone(), vis.clone());
                async move {
                    let r = lookup(&db, &vis, q, 20).await.unwrap();
                    assert!(r.devices.is_empty());
                    r.customers.into_iter().map(|c| c.id).collect::<Vec<_>>()
                }
            };
            let who = if vis.all_units { "whole org" } else { "unit" };
            // Common: a full page, every hit a true match.
            let common = found("州市西").await;
            assert_eq!(common.len(), 20, "{who}");
            assert!(common.iter().all(|&i| !(2101..=2130).contains(&i)), "{who}");
            // More than a page, none of it among the first documents.
            let ningbo = found("宁波市").await;
            assert_eq!(ningbo.len(), 20, "{who}");
            assert!(
                ningbo.iter().all(|i| (2101..=2130).contains(i)),
                "{who}: {ningbo:?}"
            );
            // Rare, past the first 2,000 documents: three Chinese characters, two, digits,
            // Latin letters in another case; LIKE's wildcards taken literally.
            for q in ["欧阳锋", "欧阳", "3912345", "ouyang", "白沙路"] {
                assert_eq!(found(q).await, vec![2990], "{who}: {q}");
            }
            assert!(found("不存在").await.is_empty(), "{who}");
            assert!(found("州%西").await.is_empty(), "{who}");
            assert!(found("州_西").await.is_empty(), "{who}");
        }
    }
);
