//! `shouhou bench …`: measured figures, never asserted in tests.

use std::time::{Duration, Instant};

use clap::Subcommand;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shouhou_app::actor::actor_for;
use shouhou_store::repo::users;

#[derive(Subcommand)]
pub enum What {
    /// Lookup latency, server side, on the store's own data (load it with `demo --customers N`).
    Lookup {
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Solves every Solomon VRPTW instance in DIR, checks each solution independently and
    /// reports cost, best known, gap and vehicles per instance, then mean gaps per class.
    Vrptw {
        dir: std::path::PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: usize,
        /// Solver threads (1 = one core, the reference setting).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Only instances whose name starts with this (e.g. C1, RC2).
        #[arg(long)]
        only: Option<String>,
    },
    /// Work-order creation over loopback HTTP: requests/s and latency with concurrent clients.
    Create {
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 5_000)]
        requests: usize,
    },
}

pub async fn run(db: &str, what: What) -> anyhow::Result<()> {
    match what {
        What::Lookup { queries, seed } => lookup(db, queries, seed).await,
        What::Create { clients, requests } => create(db, clients, requests).await,
        What::Vrptw { dir, seconds, threads, only } => vrptw(&dir, seconds, threads, only.as_deref()),
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(label: &str, mut t: Vec<Duration>) {
    t.sort();
    println!(
        "{label:<22} n={:<6} p50={:>7.2} ms  p90={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        t.len(),
        pct(&t, 0.5),
        pct(&t, 0.9),
        pct(&t, 0.99),
        pct(&t, 1.0)
    );
}

async fn lookup(db: &str, queries: usize, seed: u64) -> anyhow::Result<()> {
    let app = crate::open(db).await?;
    let (customers,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM customers", vec![])
        .await?;
    let (devices,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM devices", vec![])
        .await?;
    if customers == 0 {
        anyhow::bail!("the store is empty: load it first, e.g. `shouhou demo --customers 1000000`");
    }
    println!(
        "lookup over {customers} customers and {devices} devices ({:?})",
        app.db.backend()
    );
    let admin = users::get(&app.db, 1).await?;
    let actor = actor_for(&app.db, admin, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut rng = StdRng::seed_from_u64(seed);
    // Sample real values to cut fragments from.
    let mut samples: Vec<(String, String)> = Vec::new();
    for _ in 0..200 {
        let cid = rng.gen_range(1..=customers);
        let did = rng.gen_range(1..=devices.max(1));
        let (name, phone, addr): (String, String, String) = app
            .db
            .fetch_one(
                "SELECT c.name, p.phone, a.address FROM customers c JOIN customer_phones p ON p.customer_id = c.id \
                 JOIN customer_addresses a ON a.customer_id = c.id WHERE c.id = $1 LIMIT 1",
                vec![cid.into()],
            )
            .await?;
        let serial: Option<(String,)> = app
            .db
            .fetch_optional("SELECT serial FROM devices WHERE id = $1", vec![did.into()])
            .await?;
        let cut = |s: &str, len: usize, rng: &mut StdRng| {
            let ch: Vec<char> = s.chars().collect();
            if ch.len() <= len {
                return s.to_string();
            }
            let start = rng.gen_range(0..=ch.len() - len);
            ch[start..start + len].iter().collect::<String>()
        };
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        let mut candidates = vec![
            ("phone", cut(&digits, rng.gen_range(4..=7), &mut rng)),
            ("name", cut(&name, 2, &mut rng)),
            ("address", cut(&addr, 3, &mut rng)),
        ];
        if let Some((s,)) = serial {
            candidates.push(("serial", cut(&s, rng.gen_range(4..=8), &mut rng)));
        }
        // Keep what a person could type (e.g. not "094" cut out of a room number).
        samples.extend(
            candidates
                .into_iter()
                .filter(|(_, q)| shouhou_domain::validate::search_query_ok(q))
                .map(|(k, q)| (k.to_string(), q)),
        );
    }
    let mut by_kind: std::collections::BTreeMap<String, Vec<Duration>> = Default::default();
    let mut all = Vec::new();
    // Warm up the caches once.
    for (_, q) in samples.iter().take(50) {
        let _ = shouhou_app::search::lookup(&app, &actor, q, 20).await;
    }
    for i in 0..queries {
        let (kind, q) = &samples[i % samples.len()];
        let t = Instant::now();
        shouhou_app::search::lookup(&app, &actor, q, 20)
            .await
            .map_err(|e| anyhow::anyhow!("{q}: {e}"))?;
        let d = t.elapsed();
        by_kind.entry(kind.clone()).or_default().push(d);
        all.push(d);
    }
    for (k, v) in by_kind {
        report(&format!("lookup by {k}"), v);
    }
    report("lookup (all)", all);
    Ok(())
}

async fn create(db: &str, clients: usize, requests: usize) -> anyhow::Result<()> {
    let app = crate::open(db).await?;
    let (n,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM devices", vec![])
        .await?;
    if n == 0 {
        anyhow::bail!("the store has no devices: load demo data first (`shouhou demo`)");
    }
    let router = shouhou_web::router(shouhou_web::AppState::new(app.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    let base = format!("http://{addr}/api/v1");
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"username": "clerk1", "password": "demo123"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = login["token"].as_str().unwrap_or_default().to_string();
    let devices: Vec<(i64, i64)> = app
        .db
        .fetch_all(
            "SELECT id, customer_id FROM devices ORDER BY id LIMIT 500",
            vec![],
        )
        .await?;
    println!(
        "creating {requests} work orders with {clients} concurrent clients over {addr} ({:?})",
        app.db.backend()
    );
    let started = Instant::now();
    let per = requests / clients.max(1);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, token, devices) =
            (http.clone(), base.clone(), token.clone(), devices.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per);
            let mut failed = 0usize;
            for i in 0..per {
                let (d, cust) = devices[(c * per + i) % devices.len()];
                let body = serde_json::json!({"customer_id": cust, "device_id": d, "kind": "repair_onsite", "fault_description": "基准测试：不制冷"});
                let t = Instant::now();
                let ok = http.post(format!("{base}/work-orders")).bearer_auth(&token).json(&body).send().await
                    .map(|r| r.status().is_success()).unwrap_or(false);
                times.push(t.elapsed());
                failed += usize::from(!ok);
            }
            (times, failed)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (v, f) = t.await?;
        all.extend(v);
        failed += f;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} requests in {secs:.2} s = {:.0} req/s, {failed} failed",
        all.len(),
        all.len() as f64 / secs
    );
    report("create work order", all);
    Ok(())
}

fn vrptw(dir: &std::path::Path, seconds: usize, threads: usize, only: Option<&str>) -> anyhow::Result<()> {
    use shouhou_routing::solomon::{check, parse_sol, parse_vrp, solve};
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".vrp").map(str::to_string))
        .filter(|n| only.is_none_or(|p| n.starts_with(p)))
        .collect();
    names.sort();
    if names.is_empty() {
        anyhow::bail!("no .vrp files in {}", dir.display());
    }
    println!("{:<8} {:>10} {:>10} {:>8} {:>9} {:>9}", "instance", "cost", "BKS", "gap %", "vehicles", "BKS veh");
    let mut by_class: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let (mut feasible, mut at_bks) = (0, 0);
    for name in &names {
        let inst = parse_vrp(&std::fs::read_to_string(dir.join(format!("{name}.vrp")))?)?;
        let (bks_routes, bks) = parse_sol(&std::fs::read_to_string(dir.join(format!("{name}.sol")))?)?;
        let opts = shouhou_routing::SolveOptions {
            max_seconds: Some(seconds),
            max_generations: None,
            repeatable: false,
            threads: Some(threads),
        };
        let routes = solve(&inst, &opts)?;
        match check(&inst, &routes) {
            Ok(d) => {
                let cost = d as f64 / 10.0;
                let gap = 100.0 * (cost - bks) / bks;
                feasible += 1;
                if gap <= 0.005 {
                    at_bks += 1;
                }
                let class = name.trim_end_matches(|c: char| c.is_ascii_digit()).to_string()
                    + &name.chars().find(|c| c.is_ascii_digit()).map(String::from).unwrap_or_default();
                by_class.entry(class).or_default().push(gap);
                println!("{name:<8} {cost:>10.1} {bks:>10.1} {gap:>8.2} {:>9} {:>9}", routes.len(), bks_routes.len());
            }
            Err(e) => println!("{name:<8} INFEASIBLE: {e}"),
        }
    }
    let mut all = Vec::new();
    for (class, gaps) in &by_class {
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        println!("class {class:<4} mean gap {mean:>6.3} % over {} instances", gaps.len());
        all.extend(gaps);
    }
    let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
    let worst = all.iter().cloned().fold(0.0, f64::max);
    println!(
        "overall: {feasible}/{} feasible, {at_bks} at BKS, mean gap {mean:.3} %, worst {worst:.2} % ({seconds} s per instance, {threads} thread(s))",
        names.len()
    );
    Ok(())
}
