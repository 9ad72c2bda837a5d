//! The binary as a user runs it: first start, crash safety (`kill -9`), backup.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Server {
    child: Child,
    base: String,
}

fn start(db: &str) -> Server {
    start_with(db, &[], None)
}

/// Starts `shouhou serve` on `db` with extra serve arguments and, if given, a crash point
/// (`SHOUHOU_CRASH_AT`) where the process aborts.
fn start_with(db: &str, extra: &[&str], crash_at: Option<&str>) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shouhou"));
    cmd.args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("SHOUHOU_ADMIN_PASSWORD", "admin-pw-1")
        .env_remove("SHOUHOU_DATABASE_URL")
        .env_remove("SHOUHOU_CRASH_AT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(point) = crash_at {
        cmd.env("SHOUHOU_CRASH_AT", point);
    }
    let mut child = cmd.spawn().expect("start shouhou");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("server printed its address")
            .expect("read");
        if let Some(addr) = line.strip_prefix("shouhou listening on ") {
            break addr.trim().to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

async fn login(http: &reqwest::Client, base: &str) -> String {
    let r: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "admin-pw-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().expect("token").to_string()
}

/// A store for one test: a fresh SQLite file, or a fresh PostgreSQL database.
async fn store(postgres: bool) -> Option<shouhou_testkit::TestDb> {
    if postgres {
        shouhou_testkit::postgres().await
    } else {
        Some(shouhou_testkit::sqlite().await)
    }
}

async fn customers_named(http: &reqwest::Client, base: &str, token: &str, name: &str) -> usize {
    let list: Value = http
        .get(format!("{base}/api/v1/customers?limit=500"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().expect("customer list").clone();
    items.iter().filter(|c| c["name"] == name).count()
}

/// A request killed between its write and its answer, then retried with the same key: killed
/// after the commit, the retry gets the stored answer; killed before it, the retry runs again
/// (at once on SQLite; on PostgreSQL once the dead request's lease is over, meanwhile 409 with
/// Retry-After). Either way exactly one record, and the key never stays stuck.
async fn retried_key_after_crash(postgres: bool) {
    let Some(t) = store(postgres).await else {
        return;
    };
    let db = t.url();
    let http = reqwest::Client::new();
    let lease = ["--idempotency-lease", "1"];
    let post = |base: &str, token: &str, key: &str, name: &str| {
        http.post(format!("{base}/api/v1/customers"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            // Each of these customers is somebody else: the duplicate-phone check would hold
            // the second back.
            .json(&json!({"name": name, "phones": ["13912345678"], "allow_duplicate_phone": true}))
            .send()
    };

    // Killed after the write and its answer committed, before the answer left.
    let mut s = start_with(&db, &lease, Some("idempotency-after-commit"));
    let token = login(&http, &s.base).await;
    let r = post(&s.base, &token, "crash-after", "崩溃客户甲").await;
    assert!(r.is_err(), "the server died before answering: {r:?}");
    s.child.wait().unwrap();
    let mut s = start_with(&db, &lease, None);
    let r = post(&s.base, &token, "crash-after", "崩溃客户甲")
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["name"], "崩溃客户甲");
    assert_eq!(
        customers_named(&http, &s.base, &token, "崩溃客户甲").await,
        1
    );
    s.child.kill().unwrap();
    s.child.wait().unwrap();

    // Killed after the write, before it committed: nothing is kept, the retry runs it.
    let mut s = start_with(&db, &lease, Some("idempotency-before-commit"));
    let r = post(&s.base, &token, "crash-before", "崩溃客户乙").await;
    assert!(r.is_err(), "the server died before answering: {r:?}");
    s.child.wait().unwrap();
    let mut s = start_with(&db, &lease, None);
    assert_eq!(
        customers_named(&http, &s.base, &token, "崩溃客户乙").await,
        0
    );
    let mut answer = None;
    for _ in 0..50 {
        let r = post(&s.base, &token, "crash-before", "崩溃客户乙")
            .await
            .unwrap();
        if r.status() == 409 {
            assert!(postgres, "SQLite releases a dead process's keys at start");
            assert!(r.headers().contains_key("retry-after"));
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            continue;
        }
        answer = Some(r);
        break;
    }
    let r = answer.expect("the retried key ran again once the lease was over");
    assert_eq!(r.status(), 201);
    assert!(!r.headers().contains_key("idempotent-replayed"));
    assert_eq!(
        customers_named(&http, &s.base, &token, "崩溃客户乙").await,
        1
    );
    // And from now on the key answers with what it stored.
    let r = post(&s.base, &token, "crash-before", "崩溃客户乙")
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(
        customers_named(&http, &s.base, &token, "崩溃客户乙").await,
        1
    );
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    t.cleanup().await;
}

#[tokio::test]
async fn a_retried_key_after_a_crash_resolves_sqlite() {
    retried_key_after_crash(false).await;
}

#[tokio::test]
async fn a_retried_key_after_a_crash_resolves_postgres() {
    retried_key_after_crash(true).await;
}

fn temp_db() -> String {
    std::env::temp_dir()
        .join(format!("shouhou-cli-{}.db", uuid::Uuid::new_v4()))
        .display()
        .to_string()
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_backup_copies_them() {
    let db = temp_db();
    let mut s = start(&db);
    let http = reqwest::Client::new();
    let token = login(&http, &s.base).await;
    for i in 0..25 {
        let r = http
            .post(format!("{}/api/v1/customers", s.base))
            .bearer_auth(&token)
            .json(&json!({"name": format!("客户{i}"), "phones": [format!("139{:08}", i)]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "customer {i}");
    }
    // No clean shutdown: SIGKILL right after the last acknowledged write.
    s.child.kill().unwrap();
    s.child.wait().unwrap();

    let mut s = start(&db);
    let token = login(&http, &s.base).await;
    let list: Value = http
        .get(format!("{}/api/v1/customers?limit=100", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 25);
    assert_eq!(list["items"].as_array().unwrap().len(), 25);

    // A backup of the live store holds the same records.
    let copy = temp_db();
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args(["--db", &db, "backup", "--to", &copy])
        .env_remove("SHOUHOU_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let backup = shouhou_store::Db::connect(&copy).await.unwrap();
    let (n,): (i64,) = backup
        .fetch_one("SELECT COUNT(*) FROM customers", vec![])
        .await
        .unwrap();
    assert_eq!(n, 25);
    let (audit,): (i64,) = backup
        .fetch_one(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'customer'",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(audit, 25);
    backup.close().await;
    for f in [&db, &copy] {
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{f}{ext}"));
        }
    }
}

#[test]
fn a_new_store_without_demo_needs_an_admin_password() {
    let db = temp_db();
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args(["--db", &db, "serve", "--listen", "127.0.0.1:0"])
        .env_remove("SHOUHOU_ADMIN_PASSWORD")
        .env_remove("SHOUHOU_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SHOUHOU_ADMIN_PASSWORD"), "{err}");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{db}{ext}"));
    }
}

#[test]
fn backup_refuses_postgres_and_says_what_to_use() {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED backup_refuses_postgres: TEST_DATABASE_URL is not set"
        );
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args(["--db", &url, "backup", "--to", "/tmp/never-written.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

#[test]
fn labels_prints_a_qr_sheet_for_a_stores_devices() {
    let db = temp_db();
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args(["--db", &db, "demo", "--customers", "30", "--orders", "20"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sheet = format!("{db}.labels.html");
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args([
            "--db",
            &db,
            "labels",
            "--store",
            "S01",
            "--base-url",
            "https://fuwu.example.cn/",
            "--out",
            &sheet,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&sheet).unwrap();
    let labels = html.matches("class=\"label\"").count();
    assert!(labels > 0, "no labels");
    assert_eq!(
        html.matches("<svg").count(),
        labels,
        "one QR code per label"
    );
    assert!(
        html.contains("https://fuwu.example.cn/s/"),
        "links to the public page"
    );
    assert!(html.contains("size: A4"));
    // An unknown store is refused with its name.
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args([
            "--db",
            &db,
            "labels",
            "--store",
            "NOPE",
            "--base-url",
            "http://x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE"));
    for f in [sheet, db.clone(), format!("{db}-wal"), format!("{db}-shm")] {
        let _ = std::fs::remove_file(f);
    }
}

#[test]
fn bench_vrptw_checks_each_solution_and_reports_the_gap() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench-data/vrptw/solomon"
    );
    if !std::path::Path::new(&format!("{shared}/C101.vrp")).exists() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED bench_vrptw_checks_each_solution: ../shared/bench-data is not beside the project"
        );
        return;
    }
    let dir = format!("{}.solomon", temp_db());
    std::fs::create_dir_all(&dir).unwrap();
    for ext in ["vrp", "sol"] {
        std::fs::copy(format!("{shared}/C101.{ext}"), format!("{dir}/C101.{ext}")).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args(["bench", "vrptw", &dir, "--generations", "100"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One row for the instance: its checked cost, the best known 827.3 and the gap.
    let row = text
        .lines()
        .find(|l| l.starts_with("C101"))
        .unwrap_or_else(|| panic!("no C101 row: {text}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    let (cost, bks, gap): (f64, f64, f64) = (
        cols[1].parse().unwrap(),
        cols[2].parse().unwrap(),
        cols[3].parse().unwrap(),
    );
    assert_eq!(bks, 827.3);
    assert!(cost >= bks, "{row}");
    assert!((gap - 100.0 * (cost - bks) / bks).abs() < 0.01, "{row}");
    assert!(text.contains("shouhou: 1/1 feasible"), "{text}");
    assert!(
        text.contains("100 generations per instance") && text.contains("generations/s"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The standing crash loop: each round, eight clients create customers concurrently, each
/// request with its own idempotency key; `kill -9` strikes at a random moment; after the restart
/// every unanswered key is retried until it answers. At the end every acknowledged write and
/// every retried key is exactly one record (the acknowledged ones with the id they were given),
/// and SQLite's `integrity_check` is ok.
async fn crash_loop(postgres: bool, rounds: usize) {
    use rand::Rng;
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    let Some(t) = store(postgres).await else {
        return;
    };
    let db = t.url();
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let lease = ["--idempotency-lease", "1"];
    let mut token = String::new();
    // key → id of the acknowledged answer; keys sent without an answer.
    let acked: Arc<Mutex<BTreeMap<String, i64>>> = Arc::default();
    let mut unanswered: Vec<String> = Vec::new();
    let mut retried = 0usize;
    let mut replayed = 0usize;
    let create = |http: reqwest::Client, base: String, token: String, key: String| async move {
        let r = http
            .post(format!("{base}/api/v1/customers"))
            .bearer_auth(&token)
            .header("idempotency-key", &key)
            .json(&json!({"name": key, "phones": ["13800000000"], "allow_duplicate_phone": true}))
            .send()
            .await
            .ok()?;
        if r.status() != 201 {
            return None;
        }
        let replayed = r.headers().contains_key("idempotent-replayed");
        let v: Value = r.json().await.ok()?;
        Some((v["id"].as_i64()?, replayed))
    };
    // Sends a key again until it answers (its id, and whether the answer was the stored one).
    let answer = |http: &reqwest::Client, base: &str, token: &str, key: &str| {
        let (http, base, token, key) = (
            http.clone(),
            base.to_string(),
            token.to_string(),
            key.to_string(),
        );
        async move {
            for _ in 0..100 {
                if let Some(a) =
                    create(http.clone(), base.clone(), token.clone(), key.clone()).await
                {
                    return a;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("key {key} never answered after the crash")
        }
    };
    for round in 0..rounds {
        let mut s = start_with(&db, &lease, None);
        if token.is_empty() {
            token = login(&http, &s.base).await;
        }
        // The keys a crash left unanswered: retried until each answers.
        for key in std::mem::take(&mut unanswered) {
            let (id, was_stored) = answer(&http, &s.base, &token, &key).await;
            acked.lock().unwrap().insert(key, id);
            retried += 1;
            replayed += usize::from(was_stored);
        }
        let sent: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut clients = Vec::new();
        for c in 0..8 {
            let (http, base, token) = (http.clone(), s.base.clone(), token.clone());
            let (acked, sent) = (acked.clone(), sent.clone());
            clients.push(tokio::spawn(async move {
                for i in 0.. {
                    let key = format!("loop-{round}-{c}-{i}");
                    sent.lock().unwrap().push(key.clone());
                    match create(http.clone(), base.clone(), token.clone(), key.clone()).await {
                        Some((id, _)) => {
                            acked.lock().unwrap().insert(key, id);
                        }
                        None => return,
                    }
                }
            }));
        }
        let ms = rand::thread_rng().gen_range(100..600);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        s.child.kill().unwrap();
        s.child.wait().unwrap();
        for c in clients {
            c.await.unwrap();
        }
        let acked_now = acked.lock().unwrap();
        unanswered = sent
            .lock()
            .unwrap()
            .iter()
            .filter(|k| !acked_now.contains_key(*k))
            .cloned()
            .collect();
    }
    // A last start answers the keys of the last crash.
    let mut s = start_with(&db, &lease, None);
    for key in std::mem::take(&mut unanswered) {
        let (id, was_stored) = answer(&http, &s.base, &token, &key).await;
        acked.lock().unwrap().insert(key, id);
        retried += 1;
        replayed += usize::from(was_stored);
    }
    s.child.kill().unwrap();
    s.child.wait().unwrap();

    let store = shouhou_store::Db::connect(&db).await.unwrap();
    let rows: Vec<(i64, String)> = store
        .fetch_all(
            "SELECT id, name FROM customers WHERE name LIKE 'loop-%'",
            vec![],
        )
        .await
        .unwrap();
    let mut by_name: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (id, name) in rows {
        by_name.entry(name).or_default().push(id);
    }
    let acked = acked.lock().unwrap().clone();
    let mut lost = 0;
    for (key, id) in acked.iter() {
        match by_name.get(key) {
            Some(ids) => assert_eq!(
                ids,
                &vec![*id],
                "key {key}: one record, the acknowledged one"
            ),
            None => lost += 1,
        }
    }
    assert_eq!(lost, 0, "acknowledged writes lost");
    assert_eq!(
        by_name.len(),
        acked.len(),
        "records without an answered key"
    );
    if !postgres {
        let (ok,): (String,) = store
            .fetch_one("PRAGMA integrity_check", vec![])
            .await
            .unwrap();
        assert_eq!(ok, "ok");
    }
    store.close().await;
    // The figures for docs/BENCHMARKS.md, printed past the harness's capture.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "crash loop ({}): {rounds} rounds, {} acknowledged, {retried} retried keys resolved ({replayed} with the stored answer, the others run again), {lost} lost",
        if postgres { "postgres" } else { "sqlite" },
        acked.len(),
    );
    t.cleanup().await;
}

#[tokio::test]
async fn crash_loop_keeps_every_acknowledged_write_sqlite() {
    crash_loop(false, 12).await;
}

#[tokio::test]
async fn crash_loop_keeps_every_acknowledged_write_postgres() {
    crash_loop(true, 12).await;
}

/// Two `shouhou serve` processes on one PostgreSQL database, no balancer, clients spread over
/// both: a session made on one is good on the other, an idempotency key answered by one is
/// replayed by the other, and work-order numbers stay unique under concurrent creates.
#[tokio::test]
async fn two_servers_share_one_postgres_database() {
    let Some(t) = shouhou_testkit::postgres().await else {
        return;
    };
    let db = t.url();
    // The first start creates the admin; the second finds the store ready.
    let mut a = start(&db);
    let mut b = start(&db);
    let http = reqwest::Client::new();
    let token = login(&http, &a.base).await;
    let me = http
        .get(format!("{}/api/v1/me", b.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        200,
        "a session made on one server works on the other"
    );

    let customer = |base: &str| {
        http.post(format!("{base}/api/v1/customers"))
            .bearer_auth(&token)
            .header("idempotency-key", "two-servers-1")
            .json(&json!({"name": "双机客户", "phones": ["13700000000"]}))
            .send()
    };
    let r = customer(&a.base).await.unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    let r = customer(&b.base).await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let again: Value = r.json().await.unwrap();
    assert_eq!(
        first["id"], again["id"],
        "the other server replays the stored answer"
    );

    let mut creates = Vec::new();
    for i in 0..40 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let req = http
            .post(format!("{base}/api/v1/work-orders"))
            .bearer_auth(&token)
            .json(&json!({
                "customer_id": first["id"],
                "kind": "repair_phone",
                "fault_description": format!("电话咨询 {i}"),
            }))
            .send();
        creates.push(req);
    }
    let mut numbers = std::collections::BTreeSet::new();
    for r in futures_join(creates).await {
        let r = r.unwrap();
        assert_eq!(r.status(), 201);
        let w: Value = r.json().await.unwrap();
        numbers.insert(w["number"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 40, "every order has its own number");
    for s in [&mut a, &mut b] {
        s.child.kill().unwrap();
        s.child.wait().unwrap();
    }
    t.cleanup().await;
}

/// Runs the futures concurrently and returns their outputs in order.
async fn futures_join<F>(fs: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[test]
fn bench_vrptw_instances_are_written_per_class_and_solved_without_a_best_known() {
    let dir = format!("{}.generated", temp_db());
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args([
            "bench",
            "vrptw-instances",
            &dir,
            "--customers",
            "25",
            "--per-class",
            "1",
            "--seed",
            "3",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["C1", "C2", "R1", "R2", "RC1", "RC2"].map(|c| format!("{c}_25_1.vrp"))
    );
    // Solved and checked; with no best known solution and no peer, no gap is claimed.
    let out = Command::new(env!("CARGO_BIN_EXE_shouhou"))
        .args([
            "bench",
            "vrptw",
            &dir,
            "--only",
            "R1",
            "--generations",
            "30",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("R1_25_1"))
        .unwrap_or_else(|| panic!("no row: {text}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert!(cols[1].parse::<f64>().is_ok_and(|c| c > 0.0), "{text}");
    assert_eq!(cols[2], "—", "{row}");
    assert!(
        text.contains("1 instance(s) without a best known solution: no gap"),
        "{text}"
    );
    assert!(text.contains("shouhou: 1/1 feasible"), "{text}");
    assert!(!text.contains("mean gap"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
