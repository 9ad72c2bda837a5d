//! `shouhou bench …`: measured figures, never asserted in tests.

use std::time::{Duration, Instant};

use clap::Subcommand;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shouhou_app::actor::actor_for;
use shouhou_store::repo::users;

mod http;
mod instances;

#[derive(Subcommand)]
pub enum What {
    /// Lookup latency, server side, on the store's own data (load it with `demo --customers N`).
    Lookup {
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Look up as this user (default: the first admin, whose scope is the whole org); a
        /// store's clerk adds the store's units to every query.
        #[arg(long)]
        user: Option<String>,
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
        /// Solver configuration: hgs (our genetic search, the planner's), ils (our iterated
        /// local search), library, elitism, static-elitism, anneal or anneal:START:END[:RESTART].
        #[arg(long, default_value = "hgs")]
        search: shouhou_routing::Search,
        /// Stop each instance after this many generations instead of after --seconds (one
        /// thread, fixed seed; the search still adapts to operator timings, so runs differ a
        /// little): the generations per second measure the solver's speed, e.g. between builds.
        #[arg(long)]
        generations: Option<usize>,
        /// Also solve every instance with a peer solver, side by side (each on one core, the
        /// same time per instance), check its solutions with the same checker and print both
        /// gaps. `pyvrp`: `bench/pyvrp_peer.py` with PyVRP from PyPI in a virtual environment
        /// of its own (`python3` needed; never a dependency of shouhou).
        #[arg(long)]
        peer: Option<Peer>,
    },
    /// Writes VRPTW instances larger than Solomon's across its six classes (C1, C2, R1, R2,
    /// RC1, RC2) to DIR, in VRPLIB format, for `bench vrptw DIR --peer pyvrp` (the recipe is
    /// in bench/instances.rs). The same seed gives the same instances.
    VrptwInstances {
        dir: std::path::PathBuf,
        #[arg(long, default_value_t = 200)]
        customers: usize,
        /// Instances per class.
        #[arg(long, default_value_t = 2)]
        per_class: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Hand dispatch (nearest free technician with the skill) against the route planner on the
    /// demo city's technicians and customers: jobs served, travel, on-site share, SLA misses.
    Dispatch {
        #[arg(long, default_value_t = 20)]
        days: usize,
        #[arg(long, default_value_t = 110)]
        jobs: usize,
        /// Solver time per day.
        #[arg(long, default_value_t = 10)]
        seconds: usize,
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Solver configuration: hgs (the planner's, our genetic search), ils (our iterated
        /// local search), library (vrp-core's), elitism, static-elitism, anneal.
        #[arg(long, default_value = "hgs")]
        search: shouhou_routing::Search,
    },
    /// Head office planning several stores' day at once against each store planning alone, on
    /// the demo's stores and technicians (each technician `--scale` times over), our search.
    ChainDispatch {
        #[arg(long, default_value_t = 5)]
        days: usize,
        /// Each technician counts this many times (and the jobs with them): 3 gives 36
        /// technicians and 330 jobs over the demo's three stores.
        #[arg(long, default_value_t = 3)]
        scale: usize,
        /// Solver time per store-day (a plan of all stores gets this times the stores).
        #[arg(long, default_value_t = 10)]
        seconds: usize,
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Each job belongs to its customer's store (as the demo's orders do: many customers
        /// live nearer another store than the one they buy from); with this, to the store whose
        /// technicians start nearest to it (the split most favourable to planning alone).
        #[arg(long)]
        nearest_store: bool,
        /// This many of the first store's technicians are off every day (a store short of
        /// hands, whose orders the others may take).
        #[arg(long, default_value_t = 0)]
        absent: usize,
        /// Jobs a day over all stores (default: the demo's 110 for 12 technicians, scaled).
        #[arg(long)]
        jobs: Option<usize>,
        /// Our search to plan with: hgs (the genetic search, the planner's) or ils (the
        /// iterated local search).
        #[arg(long, default_value = "hgs")]
        search: shouhou_routing::Search,
    },
    /// Page render times of the office pages (one client over loopback, signed in as manager1).
    Pages {
        #[arg(long, default_value_t = 200)]
        requests: usize,
        /// Only the pages whose name contains this ("dashboard", "tech:").
        #[arg(long)]
        only: Option<String>,
    },
    /// KPI tables as the dashboard reads them (server side, exact): head office's month by store
    /// and year by month, a store's month by technician, the technician ranking, and the full
    /// rebuild of the facts.
    Kpis {
        #[arg(long, default_value_t = 50)]
        requests: usize,
        /// Also time `kpi rebuild` (rewrites every order's facts).
        #[arg(long)]
        rebuild: bool,
        /// Only the readings whose name contains this ("year", "CSI").
        #[arg(long)]
        only: Option<String>,
    },
    /// Load over loopback HTTP from this separate client process: starts `shouhou serve` on the
    /// store (or drives `--url`), then creates, lists (three shapes and a deep page), lookups and
    /// the KPI table, each for `--seconds` at each connection count: req/s, p50/p99, server RSS.
    Http {
        /// A server already running (e.g. http://127.0.0.1:8080) instead of starting one.
        #[arg(long)]
        url: Option<String>,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Connection counts, comma-separated.
        #[arg(long, default_value = "8,32", value_delimiter = ',')]
        connections: Vec<usize>,
        /// Only the request shapes whose name contains this ("list", "create").
        #[arg(long)]
        only: Option<String>,
        /// Seconds each shape runs unmeasured first, at the most connections (the server's
        /// page caches and connections warm; 0 measures from cold).
        #[arg(long, default_value_t = 1)]
        warmup: u64,
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
        What::Lookup {
            queries,
            seed,
            user,
        } => lookup(db, queries, seed, user.as_deref()).await,
        What::Create { clients, requests } => create(db, clients, requests).await,
        What::Pages { requests, only } => pages(db, requests, only.as_deref()).await,
        What::Http {
            url,
            seconds,
            connections,
            only,
            warmup,
        } => {
            http::run(http::Options {
                db: db.to_string(),
                url,
                seconds,
                connections,
                only,
                warmup,
            })
            .await
        }
        What::Kpis {
            requests,
            rebuild,
            only,
        } => kpis(db, requests, rebuild, only.as_deref()).await,
        What::Dispatch {
            days,
            jobs,
            seconds,
            seed,
            search,
        } => dispatch(db, days, jobs, seconds, seed, search).await,
        What::ChainDispatch {
            days,
            scale,
            seconds,
            seed,
            nearest_store,
            absent,
            jobs,
            search,
        } => {
            if search.own().is_none() {
                return Err(anyhow::anyhow!(
                    "chain-dispatch plans with our own search: --search hgs or ils"
                ));
            }
            let shape = ChainShape {
                nearest_store,
                absent,
                jobs,
                search,
            };
            chain_dispatch(db, days, scale, seconds, seed, shape).await
        }
        What::VrptwInstances {
            dir,
            customers,
            per_class,
            seed,
        } => {
            std::fs::create_dir_all(&dir)?;
            for (c, class) in instances::CLASSES.iter().enumerate() {
                for k in 1..=per_class {
                    let name = format!("{class}_{customers}_{k}");
                    // One seed per instance, from the run's seed, the class and the number.
                    let s = seed
                        .wrapping_mul(1_000_003)
                        .wrapping_add((c * 10_000 + customers * 10 + k) as u64);
                    let text = instances::generate(class, customers, s, &name)?;
                    std::fs::write(dir.join(format!("{name}.vrp")), text)?;
                }
            }
            println!(
                "{} instances of {customers} customers written to {}",
                instances::CLASSES.len() * per_class,
                dir.display()
            );
            Ok(())
        }
        What::Vrptw {
            dir,
            seconds,
            threads,
            only,
            search,
            generations,
            peer,
        } => vrptw(
            &dir,
            seconds,
            threads,
            only.as_deref(),
            search,
            generations,
            peer,
        ),
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
        "{label:<22} n={:<6} p50={:>7.2} ms  p90={:>7.2} ms  p95={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        t.len(),
        pct(&t, 0.5),
        pct(&t, 0.9),
        pct(&t, 0.95),
        pct(&t, 0.99),
        pct(&t, 1.0)
    );
}

async fn lookup(db: &str, queries: usize, seed: u64, user: Option<&str>) -> anyhow::Result<()> {
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
    let id = match user {
        None => 1,
        Some(name) => {
            let (id,): (i64,) = app
                .db
                .fetch_one(
                    "SELECT id FROM users WHERE username = $1",
                    vec![name.into()],
                )
                .await
                .map_err(|_| anyhow::anyhow!("no user {name:?} in this store"))?;
            id
        }
    };
    let who = users::get(&app.db, id).await?;
    let actor = actor_for(&app.db, who, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "as {} ({}, {} units in scope)",
        actor.user.username,
        actor.role().as_str(),
        actor.vis.units.len()
    );
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

/// A solver run beside ours in `bench vrptw --peer`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Peer {
    Pyvrp,
}

/// The peer's script, embedded so the binary runs it from anywhere.
const PYVRP_PEER: &str = include_str!("../../../bench/pyvrp_peer.py");

/// The peer solving every instance in a process of its own while ours runs.
struct PeerRun {
    child: std::process::Child,
    out: std::path::PathBuf,
}

impl PeerRun {
    fn start(dir: &std::path::Path, seconds: usize, only: Option<&str>) -> anyhow::Result<PeerRun> {
        let work = std::env::temp_dir().join(format!("shouhou-peer-{}", std::process::id()));
        let out = work.join("solutions");
        std::fs::create_dir_all(&out)?;
        let script = work.join("pyvrp_peer.py");
        std::fs::write(&script, PYVRP_PEER)?;
        let child = std::process::Command::new("python3")
            .arg(&script)
            .arg("--instances")
            .arg(dir)
            .arg("--out")
            .arg(&out)
            .args(["--seconds", &seconds.to_string()])
            .args(["--only", only.unwrap_or("")])
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run python3 for the PyVRP peer: {e}"))?;
        Ok(PeerRun { child, out })
    }

    /// Waits for the peer, then reads its solution of `name` (None when it wrote none).
    fn solution(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.out.join(format!("{name}.sol"))).ok()
    }
}

/// One solver's result on one instance: cost and routes, or why it does not count.
type Outcome = Result<(f64, usize), String>;

/// A solution's outcome by our checker: its recomputed distance and routes.
fn judged(
    inst: &shouhou_routing::solomon::Instance,
    routes: &shouhou_routing::solomon::Routes,
) -> Outcome {
    shouhou_routing::solomon::check(inst, routes).map(|d| (d as f64 / 10.0, routes.len()))
}

/// The class of an instance's name: its leading letters and the digit after them (C1 of
/// C101, RC2 of RC204 or of RC2_400_1).
fn instance_class(name: &str) -> String {
    let letters: String = name.chars().take_while(char::is_ascii_alphabetic).collect();
    let digit = name[letters.len()..]
        .chars()
        .next()
        .filter(char::is_ascii_digit);
    letters + &digit.map(String::from).unwrap_or_default()
}

/// Prints a solver's mean gap per class and overall, from `(name, outcome, BKS)`.
fn gap_summary(label: &str, rows: &[(String, Outcome, f64)], budget: &str) {
    let mut by_class: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let (mut feasible, mut at_bks) = (0, 0);
    for (name, outcome, bks) in rows {
        if let Ok((cost, _)) = outcome {
            let gap = 100.0 * (cost - bks) / bks;
            feasible += 1;
            if gap <= 0.005 {
                at_bks += 1;
            }
            by_class.entry(instance_class(name)).or_default().push(gap);
        }
    }
    let mut all = Vec::new();
    for (class, gaps) in &by_class {
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        println!(
            "{label}: class {class:<4} mean gap {mean:>6.3} % over {} instances",
            gaps.len()
        );
        all.extend(gaps);
    }
    let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
    all.sort_by(f64::total_cmp);
    let worst = all.last().copied().unwrap_or(0.0);
    let median = match all.len() {
        0 => 0.0,
        n if n % 2 == 1 => all[n / 2],
        n => (all[n / 2 - 1] + all[n / 2]) / 2.0,
    };
    println!(
        "{label}: {feasible}/{} feasible, {at_bks} at BKS, mean gap {mean:.3} %, median {median:.2} %, worst {worst:.2} % ({budget})",
        rows.len()
    );
}

fn vrptw(
    dir: &std::path::Path,
    seconds: usize,
    threads: usize,
    only: Option<&str>,
    search: shouhou_routing::Search,
    generations: Option<usize>,
    peer: Option<Peer>,
) -> anyhow::Result<()> {
    use shouhou_routing::solomon::{parse_sol, parse_vrp, solve};
    let started = Instant::now();
    // A seeded run is a single-threaded one (`SolveOptions::repeatable`); beside a peer, each
    // solver has one core.
    let threads = if generations.is_some() || peer.is_some() {
        1
    } else {
        threads
    };
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
    let mut peer_run = match peer {
        Some(Peer::Pyvrp) => Some(PeerRun::start(dir, seconds, only)?),
        None => None,
    };
    println!(
        "{:<10} {:>10} {:>10} {:>8} {:>9} {:>9}",
        "instance", "cost", "BKS", "gap %", "vehicles", "BKS veh"
    );
    let mut ours = Vec::new();
    let mut instances = Vec::new();
    for name in &names {
        let inst = parse_vrp(&std::fs::read_to_string(dir.join(format!("{name}.vrp")))?)?;
        // The best known solution where there is one (Solomon's); generated instances have
        // none, and are read against the best of the solvers run.
        let known = match std::fs::read_to_string(dir.join(format!("{name}.sol"))) {
            Ok(text) => Some(parse_sol(&text)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let opts = shouhou_routing::SolveOptions {
            max_seconds: generations.is_none().then_some(seconds),
            max_generations: generations,
            repeatable: generations.is_some(),
            threads: Some(threads),
            search,
        };
        let routes = match solve(&inst, &opts) {
            Ok(r) => r,
            Err(e) => {
                // The peer is not left solving on its own.
                if let Some(run) = peer_run.as_mut() {
                    let _ = run.child.kill();
                }
                return Err(e.into());
            }
        };
        let outcome = judged(&inst, &routes);
        match (&outcome, &known) {
            (Ok((cost, vehicles)), Some((bks_routes, bks))) => println!(
                "{name:<10} {cost:>10.1} {bks:>10.1} {:>8.2} {vehicles:>9} {:>9}",
                100.0 * (cost - bks) / bks,
                bks_routes.len()
            ),
            (Ok((cost, vehicles)), None) => println!(
                "{name:<10} {cost:>10.1} {:>10} {:>8} {vehicles:>9} {:>9}",
                "—", "—", "—"
            ),
            (Err(e), _) => println!("{name:<10} INFEASIBLE: {e}"),
        }
        ours.push((name.clone(), outcome, known.map(|(_, bks)| bks)));
        instances.push(inst);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let budget = match generations {
        Some(g) => format!(
            "{g} generations per instance, {:.0} generations/s",
            (g * names.len()) as f64 / elapsed
        ),
        None => format!("{seconds} s per instance"),
    };
    println!("shouhou's search: {search:?}");
    if let Some(run) = peer_run.as_mut() {
        let status = run.child.wait()?;
        if !status.success() {
            anyhow::bail!("the PyVRP peer failed ({status}); its messages are above");
        }
        let peer_outcomes: Vec<Outcome> = ours
            .iter()
            .zip(&instances)
            .map(|((name, _, _), inst)| match run.solution(name) {
                None => Err("no solution written".to_string()),
                Some(text) => parse_sol(&text)
                    .map_err(|e| e.to_string())
                    .and_then(|(routes, _)| judged(inst, &routes)),
            })
            .collect();
        let _ = std::fs::remove_dir_all(run.out.parent().unwrap_or(&run.out));
        // The reference of an instance without a best known solution: the better of the two.
        let reference = |known: Option<f64>, a: &Outcome, b: &Outcome| {
            known.unwrap_or_else(|| {
                [a, b]
                    .into_iter()
                    .filter_map(|o| o.as_ref().ok().map(|(c, _)| *c))
                    .fold(f64::INFINITY, f64::min)
            })
        };
        let (ours_rows, peer_rows): (Vec<_>, Vec<_>) = ours
            .iter()
            .zip(peer_outcomes)
            .map(|((name, o, known), p)| {
                let r = reference(*known, o, &p);
                ((name.clone(), o.clone(), r), (name.clone(), p, r))
            })
            .unzip();
        println!();
        println!(
            "{:<10} {:>10} {:>8} {:>4} {:>10} {:>8} {:>4} {:>10}",
            "instance", "shouhou", "gap %", "veh", "PyVRP", "gap %", "veh", "reference"
        );
        let cell = |o: &Outcome, r: f64| match o {
            Ok((cost, veh)) => format!("{cost:>10.1} {:>8.2} {veh:>4}", 100.0 * (cost - r) / r),
            Err(_) => format!("{:>10} {:>8} {:>4}", "INFEASIBLE", "", ""),
        };
        for ((name, o, r), (_, p, _)) in ours_rows.iter().zip(&peer_rows) {
            println!("{name:<10} {} {} {r:>10.1}", cell(o, *r), cell(p, *r));
            if let Err(e) = p {
                println!("           PyVRP's solution refused: {e}");
            }
        }
        let unknown = ours.iter().filter(|(_, _, k)| k.is_none()).count();
        if unknown > 0 {
            println!(
                "{unknown} instance(s) without a best known solution: the reference is the better of the two (\"at BKS\": at it)"
            );
        }
        gap_summary("shouhou", &ours_rows, &format!("{budget}, one core"));
        gap_summary("PyVRP 0.14.1", &peer_rows, &format!("{budget}, one core"));
    } else {
        let known: Vec<(String, Outcome, f64)> = ours
            .iter()
            .filter_map(|(n, o, k)| Some((n.clone(), o.clone(), (*k)?)))
            .collect();
        if known.len() < ours.len() {
            println!(
                "{} instance(s) without a best known solution: no gap (--peer pyvrp compares)",
                ours.len() - known.len()
            );
        }
        let budget = format!("{budget}, {threads} thread(s)");
        if known.is_empty() {
            let feasible = ours.iter().filter(|(_, o, _)| o.is_ok()).count();
            println!("shouhou: {feasible}/{} feasible ({budget})", ours.len());
        } else {
            gap_summary("shouhou", &known, &budget);
        }
    }
    println!("{elapsed:.1} s in all");
    Ok(())
}

#[derive(Default)]
struct DayTotals {
    served: usize,
    travel_secs: i64,
    onsite_secs: i64,
    shift_secs: i64,
    sla_misses: usize,
}

/// Jobs that had a deadline that day (urgent, or an appointment window) and were not reached in it.
fn sla_misses(jobs: &[shouhou_routing::Job], plan: &shouhou_routing::Plan) -> usize {
    jobs.iter()
        .filter(|j| j.window.is_some())
        .filter(|j| {
            let stop = plan
                .routes
                .iter()
                .flat_map(|r| &r.stops)
                .find(|s| s.job_id == j.id);
            match (stop, j.window) {
                (Some(s), Some((_, due))) => s.arrival > due,
                _ => true,
            }
        })
        .count()
}

/// A day's jobs at the demo's device sites: the device's category as the skill, a third of an
/// hour to two hours on site, 15 % urgent with a morning deadline, 30 % morning and 30 %
/// afternoon appointment windows.
fn day_jobs(
    rng: &mut StdRng,
    sites: &[(f64, f64, String)],
    day: usize,
    n_jobs: usize,
    at: &dyn Fn(u32, u32) -> chrono::DateTime<chrono::Utc>,
) -> Vec<shouhou_routing::Job> {
    use shouhou_routing::{Job, Point};
    (0..n_jobs)
        .map(|i| {
            let (lat, lng, cat) = &sites[rng.gen_range(0..sites.len())];
            let minutes = match rng.gen_range(0..100) {
                0..=29 => rng.gen_range(50..120), // install
                30..=79 => rng.gen_range(30..90), // repair
                _ => rng.gen_range(30..60),       // maintenance, inspection
            };
            let urgent = rng.gen_bool(0.15);
            let window = if urgent {
                Some((at(8, 30), at(12, 30)))
            } else {
                match rng.gen_range(0..10) {
                    0..=2 => Some((at(8, 30), at(12, 30))),
                    3..=5 => Some((at(13, 0), at(17, 30))),
                    _ => None,
                }
            };
            Job {
                id: format!("d{day}-j{i}"),
                location: Point {
                    lat: *lat,
                    lng: *lng,
                },
                service_secs: minutes * 60,
                window,
                skill: Some(cat.clone()),
                urgent,
                pinned_to: None,
                store: None,
            }
        })
        .collect()
}

/// The rows every dispatch comparison prints from (jobs served, travel seconds) of each side.
fn jobs_rows(a: (usize, i64), b: (usize, i64), tech_days: f64) -> Vec<(&'static str, f64, f64)> {
    let per_job = |(served, travel): (usize, i64)| travel as f64 / 60.0 / served.max(1) as f64;
    vec![
        ("jobs served", a.0 as f64, b.0 as f64),
        (
            "jobs per technician-day",
            a.0 as f64 / tech_days,
            b.0 as f64 / tech_days,
        ),
        ("travel minutes", a.1 as f64 / 60.0, b.1 as f64 / 60.0),
        ("travel minutes per job", per_job(a), per_job(b)),
    ]
}

/// Prints rows of two figures and the change from the first to the second.
fn compare(heads: (&str, &str), rows: &[(&str, f64, f64)]) {
    println!("{:<34} {:>12} {:>12} {:>9}", "", heads.0, heads.1, "change");
    for (label, a, b) in rows {
        println!(
            "{label:<34} {a:>12.2} {b:>12.2} {:>8.1}%",
            if *a != 0.0 { 100.0 * (b - a) / a } else { 0.0 }
        );
    }
}

/// How a chain's day is made up (see `bench chain-dispatch --help`).
struct ChainShape {
    nearest_store: bool,
    absent: usize,
    jobs: Option<usize>,
    search: shouhou_routing::Search,
}

/// Each store's day planned alone against all of them at once (their jobs may cross to a
/// neighbouring store's technician), on the demo's stores with each technician `scale` times.
async fn chain_dispatch(
    db: &str,
    days: usize,
    scale: usize,
    seconds: usize,
    seed: u64,
    shape: ChainShape,
) -> anyhow::Result<()> {
    let ChainShape {
        nearest_store,
        absent,
        jobs: jobs_a_day,
        search,
    } = shape;
    use chrono::{Duration as D, TimeZone};
    use shouhou_routing::{Break, Plan, Point, SolveOptions, Technician, TravelModel};
    let app = crate::open(db).await?;
    let techs: Vec<(i64, String, f64, f64, i64, String)> = app
        .db
        .fetch_all(
            "SELECT t.id, t.skills, t.start_lat, t.start_lng, t.org_unit_id, o.name FROM technicians t \
             JOIN org_units o ON o.id = t.org_unit_id WHERE t.active = TRUE ORDER BY t.id",
            vec![],
        )
        .await?;
    let mut stores: Vec<(i64, String)> = vec![];
    for t in &techs {
        if !stores.iter().any(|s| s.0 == t.4) {
            stores.push((t.4, t.5.clone()));
        }
    }
    if stores.len() < 2 {
        anyhow::bail!(
            "the technicians work for {} store(s): load the demo first (`shouhou demo`)",
            stores.len()
        );
    }
    let owned: Vec<(f64, f64, String, i64)> = app
        .db
        .fetch_all(
            "SELECT a.lat, a.lng, p.category, c.org_unit_id FROM devices d \
             JOIN customer_addresses a ON a.id = d.site_address_id \
             JOIN customers c ON c.id = d.customer_id \
             JOIN products p ON p.id = d.product_id ORDER BY d.id LIMIT 20000",
            vec![],
        )
        .await?;
    let sites: Vec<(f64, f64, String)> = owned
        .iter()
        .map(|(lat, lng, cat, _)| (*lat, *lng, cat.clone()))
        .collect();
    // The customer's store of each place (the first customer's where several share it).
    let mut customer_store: std::collections::HashMap<(u64, u64), i64> =
        std::collections::HashMap::new();
    for (lat, lng, _, unit) in &owned {
        customer_store
            .entry((lat.to_bits(), lng.to_bits()))
            .or_insert(*unit);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let travel = TravelModel::default();
    let tz = chrono_tz::Asia::Shanghai;
    let n_techs = techs.len() * scale;
    let n_jobs = jobs_a_day.unwrap_or(110 * n_techs / 12);
    println!(
        "{} stores ({}), {n_techs} technicians, {n_jobs} jobs a day, {days} days; each job belongs to {}; \
         {absent} of the first store's technicians off; {seconds} s per store-day ({} s for all stores at once), \
         one core",
        stores.len(),
        stores.iter().map(|s| s.1.as_str()).collect::<Vec<_>>().join(", "),
        if nearest_store {
            "the store of the technicians starting nearest to it"
        } else {
            "its customer's store"
        },
        seconds * stores.len()
    );
    println!(
        "{:<5} {:>13} {:>13} {:>15} {:>15} {:>9} {:>10} {:>10}",
        "day",
        "alone served",
        "chain served",
        "alone travel m",
        "chain travel m",
        "crossed",
        "alone s",
        "chain s"
    );
    #[derive(Default)]
    struct Totals {
        served: usize,
        travel_secs: i64,
        sla_misses: usize,
        crossed: usize,
        secs: f64,
    }
    let (mut alone, mut chain) = (Totals::default(), Totals::default());
    let opts = |s: usize| SolveOptions {
        max_seconds: Some(s),
        max_generations: None,
        repeatable: false,
        threads: Some(1),
        search,
    };
    for day in 0..days {
        let date =
            chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default() + D::days(day as i64);
        let at = |h: u32, m: u32| {
            tz.from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap_or_default())
                .single()
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_default()
        };
        let first = stores[0].0;
        let technicians: Vec<Technician> = techs
            .iter()
            .flat_map(|(id, skills, lat, lng, unit, _)| {
                (0..scale).map(move |k| (id, skills, lat, lng, unit, k))
            })
            .filter({
                let mut off = 0;
                move |t| {
                    if *t.4 == first && off < absent {
                        off += 1;
                        return false;
                    }
                    true
                }
            })
            .map(|(id, skills, lat, lng, unit, k)| Technician {
                id: format!("t{id}-{k}"),
                start: Point {
                    lat: *lat,
                    lng: *lng,
                },
                end: None,
                shift_start: at(8, 30),
                shift_end: at(17, 30),
                breaks: vec![Break {
                    earliest: at(11, 30),
                    latest: at(13, 30),
                    duration_secs: 45 * 60,
                }],
                skills: serde_json::from_str(skills).unwrap_or_default(),
                store: Some(unit.to_string()),
            })
            .collect();
        let mut jobs = day_jobs(&mut rng, &sites, day, n_jobs, &at);
        for j in &mut jobs {
            if !nearest_store {
                let key = (j.location.lat.to_bits(), j.location.lng.to_bits());
                if let Some(unit) = customer_store.get(&key) {
                    if stores.iter().any(|s| s.0 == *unit) {
                        j.store = Some(unit.to_string());
                        continue;
                    }
                }
            }
            let nearest = techs
                .iter()
                .min_by(|a, b| {
                    let d = |t: &(i64, String, f64, f64, i64, String)| {
                        (t.2 - j.location.lat).powi(2) + (t.3 - j.location.lng).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
                .map(|t| t.4);
            j.store = nearest.map(|u| u.to_string());
        }
        let mut alone_day = Plan {
            routes: vec![],
            unassigned: vec![],
        };
        let t0 = Instant::now();
        for (unit, _) in &stores {
            let key = Some(unit.to_string());
            let ts: Vec<Technician> = technicians
                .iter()
                .filter(|t| t.store == key)
                .cloned()
                .collect();
            let js: Vec<_> = jobs.iter().filter(|j| j.store == key).cloned().collect();
            let p = shouhou_routing::plan(&ts, &js, &travel, &opts(seconds))?;
            alone_day.routes.extend(p.routes);
            alone_day.unassigned.extend(p.unassigned);
        }
        let alone_secs = t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let chain_day =
            shouhou_routing::plan(&technicians, &jobs, &travel, &opts(seconds * stores.len()))?;
        let chain_secs = t0.elapsed().as_secs_f64();
        let store_of = |id: &str| {
            jobs.iter()
                .find(|j| j.id == id)
                .and_then(|j| j.store.clone())
        };
        let crossed = chain_day
            .routes
            .iter()
            .map(|r| {
                let home = technicians
                    .iter()
                    .find(|t| t.id == r.technician_id)
                    .and_then(|t| t.store.clone());
                r.stops
                    .iter()
                    .filter(|s| store_of(&s.job_id) != home)
                    .count()
            })
            .sum::<usize>();
        for (tot, plan, secs) in [
            (&mut alone, &alone_day, alone_secs),
            (&mut chain, &chain_day, chain_secs),
        ] {
            tot.served += plan.jobs_served();
            tot.travel_secs += plan.travel_secs();
            tot.sla_misses += sla_misses(&jobs, plan);
            tot.secs += secs;
        }
        chain.crossed += crossed;
        println!(
            "{:<5} {:>13} {:>13} {:>15.0} {:>15.0} {:>9} {:>10.1} {:>10.1}",
            day + 1,
            alone_day.jobs_served(),
            chain_day.jobs_served(),
            alone_day.travel_secs() as f64 / 60.0,
            chain_day.travel_secs() as f64 / 60.0,
            crossed,
            alone_secs,
            chain_secs
        );
    }
    let tech_days = (n_techs * days) as f64;
    compare(
        ("each alone", "all at once"),
        &[
            jobs_rows(
                (alone.served, alone.travel_secs),
                (chain.served, chain.travel_secs),
                tech_days,
            )
            .as_slice(),
            &[
                (
                    "SLA misses (urgent/appointment)",
                    alone.sla_misses as f64,
                    chain.sla_misses as f64,
                ),
                (
                    "planning seconds per day",
                    alone.secs / days as f64,
                    chain.secs / days as f64,
                ),
            ],
        ]
        .concat(),
    );
    println!(
        "jobs crossing to another store's technician: {} of {} served ({:.1} %)",
        chain.crossed,
        chain.served,
        100.0 * chain.crossed as f64 / chain.served.max(1) as f64
    );
    Ok(())
}

async fn dispatch(
    db: &str,
    days: usize,
    n_jobs: usize,
    seconds: usize,
    seed: u64,
    search: shouhou_routing::Search,
) -> anyhow::Result<()> {
    use chrono::{Duration as D, TimeZone};
    use shouhou_routing::{Break, Point, Technician, TravelModel};
    let app = crate::open(db).await?;
    let techs: Vec<(i64, String, f64, f64)> = app
        .db
        .fetch_all("SELECT id, skills, start_lat, start_lng FROM technicians WHERE active = TRUE ORDER BY id", vec![])
        .await?;
    if techs.len() < 12 {
        anyhow::bail!(
            "the store has {} technicians: load the demo city first (`shouhou demo`)",
            techs.len()
        );
    }
    let sites: Vec<(f64, f64, String)> = app
        .db
        .fetch_all(
            "SELECT a.lat, a.lng, p.category FROM devices d JOIN customer_addresses a ON a.id = d.site_address_id \
             JOIN products p ON p.id = d.product_id ORDER BY d.id LIMIT 20000",
            vec![],
        )
        .await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let travel = TravelModel::default();
    let tz = chrono_tz::Asia::Shanghai;
    let (mut hand, mut greedy, mut optimised) = (
        DayTotals::default(),
        DayTotals::default(),
        DayTotals::default(),
    );
    let mut inserts = Inserts::default();
    println!(
        "{} technicians, {n_jobs} jobs a day, {days} days, travel: great-circle × 1.3 at 25 km/h; solver {seconds} s per day",
        techs.len()
    );
    println!(
        "{:<5} {:>12} {:>14} {:>14} {:>14} {:>16} {:>16}",
        "day",
        "hand served",
        "greedy served",
        "planned served",
        "hand travel m",
        "greedy travel m",
        "planned travel m"
    );
    for day in 0..days {
        let date =
            chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default() + D::days(day as i64);
        let at = |h: u32, m: u32| {
            tz.from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap_or_default())
                .single()
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_default()
        };
        let technicians: Vec<Technician> = techs
            .iter()
            .map(|(id, skills, lat, lng)| Technician {
                id: format!("t{id}"),
                start: Point {
                    lat: *lat,
                    lng: *lng,
                },
                end: None,
                shift_start: at(8, 30),
                shift_end: at(17, 30),
                breaks: vec![Break {
                    earliest: at(11, 30),
                    latest: at(13, 30),
                    duration_secs: 45 * 60,
                }],
                skills: serde_json::from_str(skills).unwrap_or_default(),
                store: None,
            })
            .collect();
        let jobs = day_jobs(&mut rng, &sites, day, n_jobs, &at);
        let shift_secs = technicians
            .iter()
            .map(|t| (t.shift_end - t.shift_start).num_seconds())
            .sum::<i64>();
        let h = shouhou_routing::greedy::hand(&technicians, &jobs, &travel)?;
        let g = shouhou_routing::greedy::plan(&technicians, &jobs, &travel)?;
        let opts = shouhou_routing::SolveOptions {
            max_seconds: Some(seconds),
            max_generations: None,
            repeatable: false,
            threads: None,
            search,
        };
        let p = shouhou_routing::plan(&technicians, &jobs, &travel, &opts)?;
        // Urgent calls for the afternoon into the planned day, each on its own (as the
        // dispatcher's "insert" does into a committed day), from a random sequence of their own
        // so that the days stay the same with or without them.
        let mut calls = StdRng::seed_from_u64(seed.wrapping_mul(7919).wrapping_add(day as u64));
        for k in 0..INSERTS_A_DAY {
            let (lat, lng, cat) = &sites[calls.gen_range(0..sites.len())];
            let new = shouhou_routing::Job {
                id: format!("d{day}-urgent{k}"),
                location: Point {
                    lat: *lat,
                    lng: *lng,
                },
                service_secs: calls.gen_range(30..90) * 60,
                window: Some((at(13, 0), at(17, 30))),
                skill: Some(cat.clone()),
                urgent: true,
                pinned_to: None,
                store: None,
            };
            let started = Instant::now();
            let done = shouhou_routing::insert::insert(&technicians, &jobs, &p, &new, &travel)?;
            inserts.time.push(started.elapsed());
            if done.plan.unassigned.iter().any(|u| u.job_id == new.id) {
                inserts.out += 1;
            } else if done.moved.is_some() {
                inserts.moved += 1;
            } else {
                inserts.direct += 1;
            }
        }
        for (tot, plan) in [(&mut hand, &h), (&mut greedy, &g), (&mut optimised, &p)] {
            tot.served += plan.jobs_served();
            tot.travel_secs += plan.travel_secs();
            tot.onsite_secs += plan.onsite_secs();
            tot.shift_secs += shift_secs;
            tot.sla_misses += sla_misses(&jobs, plan);
        }
        println!(
            "{:<5} {:>12} {:>14} {:>14} {:>14.0} {:>16.0} {:>16.0}",
            day + 1,
            h.jobs_served(),
            g.jobs_served(),
            p.jobs_served(),
            h.travel_secs() as f64 / 60.0,
            g.travel_secs() as f64 / 60.0,
            p.travel_secs() as f64 / 60.0
        );
    }
    let tech_days = (techs.len() * days) as f64;
    for (name, base) in [
        (
            "hand dispatch (each call to the nearest free technician with the skill)",
            &hand,
        ),
        (
            "nearest-job greedy (each free technician takes the nearest job)",
            &greedy,
        ),
    ] {
        println!();
        println!("planner against {name}");
        compare(
            ("baseline", "planner"),
            &[
                jobs_rows(
                    (base.served, base.travel_secs),
                    (optimised.served, optimised.travel_secs),
                    tech_days,
                )
                .as_slice(),
                &[
                    (
                        "effective on-site share %",
                        100.0 * base.onsite_secs as f64 / base.shift_secs as f64,
                        100.0 * optimised.onsite_secs as f64 / optimised.shift_secs as f64,
                    ),
                    (
                        "SLA misses (urgent/appointment)",
                        base.sla_misses as f64,
                        optimised.sla_misses as f64,
                    ),
                ],
            ]
            .concat(),
        );
    }
    let mut times = inserts.time.clone();
    times.sort();
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!();
    println!(
        "an urgent afternoon call inserted into the planned day ({} calls, {INSERTS_A_DAY} a day, each on its own):",
        times.len()
    );
    println!(
        "  fits as the day stands {}, after one planned stop moves to another technician {}, left out {}",
        inserts.direct, inserts.moved, inserts.out
    );
    println!(
        "  time per insertion: p50 {:.1} ms, max {:.1} ms",
        ms(times.get(times.len() / 2)),
        ms(times.last())
    );
    Ok(())
}

/// Urgent calls inserted into the planned days (`bench dispatch`).
const INSERTS_A_DAY: usize = 5;

#[derive(Default)]
struct Inserts {
    direct: usize,
    moved: usize,
    out: usize,
    time: Vec<Duration>,
}

async fn pages(db: &str, requests: usize, only: Option<&str>) -> anyhow::Result<()> {
    let app = crate::open(db).await?;
    let (orders,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM work_orders", vec![])
        .await?;
    let (store,): (i64,) = app
        .db
        .fetch_one("SELECT MIN(id) FROM org_units WHERE kind = 'store'", vec![])
        .await?;
    let (devices,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM devices", vec![])
        .await?;
    let (token,): (String,) = app
        .db
        .fetch_one("SELECT qr_token FROM devices ORDER BY id LIMIT 1", vec![])
        .await?;
    let mut state = shouhou_web::AppState::new(app.clone());
    // The benchmark measures rendering, not the public pages' rate limit.
    state.public_limits = std::sync::Arc::new(shouhou_web::pages::selfservice::PublicLimits::new(
        u32::MAX / 2,
        u32::MAX / 2,
    ));
    let router = shouhou_web::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    let base = format!("http://{addr}");
    let signed_in = |user: &'static str| {
        let base = base.clone();
        async move {
            let http = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()?;
            let r = http
                .post(format!("{base}/login"))
                .form(&[("username", user), ("password", "demo123")])
                .send()
                .await?;
            if r.status() != 303 {
                anyhow::bail!("cannot sign in as {user}/demo123: load the demo data first");
            }
            Ok::<_, anyhow::Error>(http)
        }
    };
    // As `serve` does at its start: the KPI memory filled for the managers' dashboards.
    let t = Instant::now();
    let scopes = shouhou_app::kpi::warm(&app).await?;
    println!(
        "KPI warm-up as at a server's start: {scopes} scopes in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let http = signed_in("manager1").await?;
    let tech = signed_in("tech01").await?;
    let today = app.today();
    println!(
        "page render over loopback, {orders} work orders ({:?}), {requests} requests a page",
        app.db.backend()
    );
    let mut rng = StdRng::seed_from_u64(3);
    type PathFn = Box<dyn Fn(&mut StdRng) -> String>;
    let mut paths: Vec<(&str, PathFn)> = vec![
        ("home", Box::new(|_| "/home".to_string())),
        ("work-orders", Box::new(|_| "/work-orders".to_string())),
        (
            "work-orders overdue",
            Box::new(|_| "/work-orders?overdue=true".to_string()),
        ),
        (
            "work-orders page 20",
            Box::new(|_| "/work-orders?offset=1000".to_string()),
        ),
        (
            "work-order detail",
            Box::new(move |r: &mut StdRng| {
                format!("/work-orders/{}", r.gen_range(1..=orders.max(1)))
            }),
        ),
        (
            "dispatch board",
            Box::new(move |_| format!("/dispatch?store={store}&date={today}")),
        ),
        ("intake", Box::new(|_| "/intake".to_string())),
        ("review queue", Box::new(|_| "/review".to_string())),
        ("customers", Box::new(|_| "/customers".to_string())),
        (
            "device history",
            Box::new(move |r: &mut StdRng| format!("/devices/{}", r.gen_range(1..=devices.max(1)))),
        ),
        (
            "intake search",
            Box::new(|r: &mut StdRng| format!("/intake/search?q=13{}", r.gen_range(10..99))),
        ),
        (
            "service report",
            Box::new(move |r: &mut StdRng| {
                format!("/work-orders/{}/report", r.gen_range(1..=orders.max(1)))
            }),
        ),
        ("leads", Box::new(|_| "/opportunities".to_string())),
        (
            "complaints",
            Box::new(|_| "/complaints?show=all".to_string()),
        ),
        ("follow-ups", Box::new(|_| "/follow-ups".to_string())),
        (
            "dashboard month",
            Box::new(|_| "/kpis?period=month".to_string()),
        ),
        (
            "dashboard year",
            Box::new(|_| "/kpis?period=year&by=technician".to_string()),
        ),
        (
            "kpi orders behind",
            Box::new(|_| "/kpis/first_time_fix_rate/orders?side=denominator".to_string()),
        ),
        (
            // Four weeks ending on a random day of the last year: a total not yet counted.
            "kpi orders behind, any 4 weeks",
            Box::new(move |r: &mut StdRng| {
                let to = today - chrono::Duration::days(r.gen_range(0..365));
                let from = to - chrono::Duration::days(27);
                format!("/kpis/first_time_fix_rate/orders?side=denominator&from={from}&to={to}")
            }),
        ),
    ];
    // The same for the figures whose total is not a flag's sum: four weeks ending on a random
    // day of the last year, each KPI's rows read first there.
    for (name, kpi, side) in [
        (
            "kpi orders behind, 4 weeks: response",
            "response_time_minutes",
            "denominator",
        ),
        (
            "kpi orders behind, 4 weeks: cycle",
            "repair_cycle_hours",
            "denominator",
        ),
        (
            "kpi orders behind, 4 weeks: arrival",
            "arrival_compliance",
            "denominator",
        ),
        (
            "kpi orders behind, 4 weeks: calls",
            "calls_per_technician_day",
            "numerator",
        ),
        (
            "kpi orders behind, 4 weeks: complaints",
            "complaint_rate",
            "numerator",
        ),
    ] {
        let path: PathFn = Box::new(move |r: &mut StdRng| {
            let to = today - chrono::Duration::days(r.gen_range(0..365));
            let from = to - chrono::Duration::days(27);
            format!("/kpis/{kpi}/orders?side={side}&from={from}&to={to}")
        });
        paths.push((name, path));
    }
    paths.extend::<Vec<(&str, PathFn)>>(vec![
        (
            "satisfaction by item",
            Box::new(|_| "/csi?period=month&by=store".to_string()),
        ),
        ("targets", Box::new(|_| "/targets".to_string())),
        ("points ranking", Box::new(|_| "/points".to_string())),
        ("knowledge base", Box::new(|_| "/kb?q=不".to_string())),
        (
            "public device page",
            Box::new(move |_| format!("/s/{token}")),
        ),
        ("tech: my day", Box::new(|_| "/tech".to_string())),
    ]);
    for (name, path) in &paths {
        if only.is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let client = if name.starts_with("tech:") {
            &tech
        } else {
            &http
        };
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            let url = format!("{base}{}", path(&mut rng));
            let t = Instant::now();
            let r = client.get(&url).send().await?;
            let ok = r.status().is_success();
            let _ = r.bytes().await?;
            times.push(t.elapsed());
            if !ok {
                anyhow::bail!("{url} failed");
            }
        }
        times.sort();
        println!(
            "{name:<38} p50={:>7.2} ms  p95={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
            pct(&times, 0.5),
            pct(&times, 0.95),
            pct(&times, 0.99),
            pct(&times, 1.0)
        );
    }
    Ok(())
}

async fn kpis(db: &str, requests: usize, rebuild: bool, only: Option<&str>) -> anyhow::Result<()> {
    use shouhou_app::kpi::{self, By, Period, Query};
    let app = crate::open(db).await?;
    let (orders,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM work_orders", vec![])
        .await?;
    let (facts,): (i64,) = app
        .db
        .fetch_one("SELECT COUNT(*) FROM kpi_facts", vec![])
        .await?;
    let (store,): (i64,) = app
        .db
        .fetch_one("SELECT MIN(id) FROM org_units WHERE kind = 'store'", vec![])
        .await?;
    let (manager,): (i64,) = app
        .db
        .fetch_one("SELECT id FROM users WHERE username = 'manager1'", vec![])
        .await
        .map_err(|_| anyhow::anyhow!("no manager1: load the demo data first"))?;
    let user = shouhou_store::repo::users::get(&app.db, manager).await?;
    let actor = shouhou_app::actor::actor_for(&app.db, user, None).await?;
    println!(
        "KPI tables, server side, {orders} work orders, {facts} fact rows ({:?}), {requests} readings each",
        app.db.backend()
    );
    kpi::catch_up(&app).await?;
    let today = app.today();
    let (m0, m1) = Period::Month.range(today);
    let (y0, y1) = Period::Year.range(today);
    let mut store_month = Query::new(m0, m1, By::Technician);
    store_month.unit_id = Some(store);
    let mut weeks = Query::new(
        shouhou_domain::kpi::Bucket::Week.start(m1) - chrono::Duration::weeks(11),
        m1,
        By::Week,
    );
    weeks.only = Some(shouhou_domain::kpi::Kpi::FirstTimeFixRate);
    let cases: Vec<(&str, Query)> = vec![
        ("head office month", Query::new(m0, m1, By::Store)),
        ("head office month total", Query::new(m0, m1, By::All)),
        (
            "head office 14 days by day",
            Query::new(m1 - chrono::Duration::days(13), m1, By::Day),
        ),
        ("head office 12 weeks first-time fix", weeks),
        ("head office year", Query::new(y0, y1, By::Month)),
        (
            "head office year by technician",
            Query::new(y0, y1, By::Technician),
        ),
        ("store month", store_month),
        ("technician ranking", Query::new(m0, m1, By::Technician)),
    ];
    let wanted = |name: &str| only.is_none_or(|o| name.contains(o));
    // Each reading as a server reads it again and again (the finished months kept in memory
    // after the first reading), and as the first reading of a server (nothing in memory).
    let memories = [("", false), (" (nothing in memory)", true)];
    let server = |cold: bool| match cold {
        true => shouhou_app::App {
            kpi_cache: Default::default(),
            ..app.clone()
        },
        false => app.clone(),
    };
    for (name, q) in cases.iter().filter(|c| wanted(c.0)) {
        for (suffix, cold) in memories {
            let mut times = Vec::with_capacity(requests);
            for _ in 0..requests {
                let app = server(cold);
                let t = Instant::now();
                let table = kpi::table(&app, &actor, q).await?;
                times.push(t.elapsed());
                std::hint::black_box(table);
            }
            report(&format!("{name}{suffix}"), times);
        }
    }
    // Every table of the dashboard page (read side by side, as the page reads them).
    let boards = [
        (
            "dashboard month by store (all tables)",
            Period::Month,
            By::Store,
        ),
        (
            "dashboard year by store (all tables)",
            Period::Year,
            By::Store,
        ),
        (
            "dashboard year by technician (all tables)",
            Period::Year,
            By::Technician,
        ),
    ];
    for (name, period, by) in boards.iter().filter(|c| wanted(c.0)) {
        let (from, to) = period.range(today);
        let q = Query::new(from, to, By::All);
        for (suffix, cold) in memories {
            let mut times = Vec::with_capacity(requests);
            for _ in 0..requests {
                let app = server(cold);
                let t = Instant::now();
                let d = kpi::dashboard(&app, &actor, &q, Some(*period), *by).await?;
                times.push(t.elapsed());
                std::hint::black_box(d);
            }
            report(&format!("{name}{suffix}"), times);
        }
    }
    // A server warms the managers' first dashboards at start: how long that takes, and the
    // first reading of each dashboard after it.
    if wanted("warm") {
        let fresh = server(true);
        let t = Instant::now();
        let n = kpi::warm(&fresh).await?;
        println!(
            "warm-up at start       {n} scopes in {:.2} s ({} pieces kept, {:.1} MiB)",
            t.elapsed().as_secs_f64(),
            fresh.kpi_cache.len(),
            fresh.kpi_cache.bytes() as f64 / f64::from(1 << 20)
        );
        for (name, period, by) in &boards {
            let (from, to) = period.range(today);
            let q = Query::new(from, to, By::All);
            let t = Instant::now();
            let d = kpi::dashboard(&fresh, &actor, &q, Some(*period), *by).await?;
            println!(
                "{name}, first reading after the warm-up: {:.1} ms",
                t.elapsed().as_secs_f64() * 1000.0
            );
            std::hint::black_box(d);
        }
    }
    // Satisfaction by item reads the facts joined with the answers.
    let csi_cases: Vec<(&str, Query)> = vec![
        ("CSI head office month", Query::new(m0, m1, By::Store)),
        ("CSI head office year", Query::new(y0, y1, By::All)),
    ];
    for (name, q) in csi_cases.iter().filter(|c| wanted(c.0)) {
        for (suffix, cold) in memories {
            let mut times = Vec::with_capacity(requests);
            for _ in 0..requests {
                let app = server(cold);
                let t = Instant::now();
                let table = shouhou_app::csi::table(&app, &actor, q).await?;
                times.push(t.elapsed());
                std::hint::black_box(table);
            }
            report(&format!("{name}{suffix}"), times);
        }
    }
    if rebuild {
        let t = Instant::now();
        let n = kpi::rebuild(&app).await?;
        println!(
            "rebuild                {n} orders in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
