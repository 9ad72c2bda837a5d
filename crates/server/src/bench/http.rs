//! `shouhou bench http`: a load test over loopback from a separate client process.
//!
//! It starts `shouhou serve` on the store as a child process (or drives a server already
//! running at `--url`), signs in through the API, and runs each request shape for a fixed time
//! at each connection count: requests/s, p50/p99 latency, failures, and the server's resident
//! memory after the phase (current and peak, read from `/proc`). Each shape first runs
//! unmeasured for `--warmup` seconds at the most connections, so the figures are the steady
//! state's, not the first requests' on cold page caches. Everything goes through HTTP,
//! so the same run measures SQLite and PostgreSQL.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Datelike;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// What the run drives.
pub struct Options {
    pub db: String,
    pub url: Option<String>,
    pub seconds: u64,
    pub connections: Vec<usize>,
    pub only: Option<String>,
    /// Seconds each shape runs unmeasured before its phases.
    pub warmup: u64,
}

/// The server under test: a child process we started, or one named by `--url`.
struct Server {
    base: String,
    child: Option<Child>,
}

impl Server {
    fn start(db: &str) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::env::temp_dir().join(format!("shouhou-bench-http-{port}.log"));
        let child = Command::new(std::env::current_exe()?)
            .args([
                "--db",
                db,
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("cannot start `shouhou serve`")?;
        println!(
            "server: pid {} on 127.0.0.1:{port}, log {}",
            child.id(),
            log.display()
        );
        Ok(Server {
            base: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        })
    }

    /// Resident memory of the server now and at its peak (MB), when it is our child.
    fn rss(&self) -> Option<(f64, f64)> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb = |key: &str| -> Option<f64> {
            let line = status.lines().find(|l| l.starts_with(key))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        };
        Some((kb("VmRSS:")? / 1024.0, kb("VmHWM:")? / 1024.0))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A request of one shape, made fresh for each call.
type MakeRequest = Arc<dyn Fn(&mut StdRng) -> reqwest::RequestBuilder + Send + Sync>;

pub async fn run(o: Options) -> anyhow::Result<()> {
    let server = match &o.url {
        Some(u) => Server {
            base: u.trim_end_matches('/').to_string(),
            child: None,
        },
        None => Server::start(&o.db)?,
    };
    let api = format!("{}/api/v1", server.base);
    let max_conns = o.connections.iter().copied().max().unwrap_or(1);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(max_conns)
        .timeout(Duration::from_secs(60))
        .build()?;
    wait_ready(&http, &server.base).await?;
    let clerk = login(&http, &api, "clerk1").await?;
    // The follow-up staff's page is an office page: a signed-in browser session.
    let office = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(max_conns)
        .build()?;
    office
        .post(format!("{}/login", server.base))
        .form(&[("username", "followup1"), ("password", "demo123")])
        .send()
        .await?;
    let admin = login(&http, &api, "admin").await?;

    // Real values to ask for, read through the API.
    let page: Value = get_json(&http, &format!("{api}/work-orders?limit=500"), &admin).await?;
    let orders = page["items"].as_array().cloned().unwrap_or_default();
    let total = page["total"].as_i64().unwrap_or(0);
    let pairs: Vec<(i64, String)> = orders
        .iter()
        .filter_map(|w| {
            Some((
                w["customer_id"].as_i64()?,
                w["status"].as_str()?.to_string(),
            ))
        })
        .collect();
    // Devices to create orders for, spread over the archive (not the newest orders' devices:
    // run after run they would gather every order the bench made, as no real device does).
    let first: Value = get_json(&http, &format!("{api}/devices?limit=1"), &admin).await?;
    let spread = first["total"].as_i64().unwrap_or(0).max(1);
    let mut devices: Vec<(i64, i64)> = Vec::new();
    for k in 0..20 {
        let page: Value = get_json(
            &http,
            &format!("{api}/devices?limit=100&offset={}", spread * k / 20),
            &admin,
        )
        .await?;
        devices.extend(
            page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| Some((d["id"].as_i64()?, d["customer_id"].as_i64()?))),
        );
    }
    let customers: Value = get_json(&http, &format!("{api}/customers?limit=200"), &admin).await?;
    let mut fragments: Vec<String> = Vec::new();
    for c in customers["items"].as_array().into_iter().flatten() {
        if let Some(p) = c["phones"].get(0).and_then(Value::as_str) {
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 7 {
                fragments.push(digits[digits.len() - 6..].to_string());
            }
        }
        if let Some(n) = c["name"].as_str() {
            let two: String = n.chars().take(2).collect();
            if two.chars().count() == 2 {
                fragments.push(two);
            }
        }
    }
    if pairs.is_empty() || devices.is_empty() || fragments.is_empty() {
        bail!("the store has no orders or customers: load demo data first (`shouhou demo`)");
    }
    // The org's today (the default time zone, as `serve` runs it).
    let today = {
        use shouhou_app::Clock;
        shouhou_app::SystemClock
            .now()
            .with_timezone(&shouhou_app::Settings::default().time_zone)
            .date_naive()
    };
    let month_start = today.with_day(1).unwrap_or(today);
    println!(
        "{total} work orders in the admin's scope; {} s a phase; connections {:?}",
        o.seconds, o.connections
    );
    if let Some((now, peak)) = server.rss() {
        println!("server RSS before the load: {now:.0} MB (peak {peak:.0} MB)");
    }

    let shapes: Vec<(&str, MakeRequest)> = vec![
        ("create work order", {
            let (http, api, t) = (http.clone(), api.clone(), clerk.clone());
            Arc::new(move |r: &mut StdRng| {
                let (d, c) = devices[r.gen_range(0..devices.len())];
                http.post(format!("{api}/work-orders")).bearer_auth(&t).json(
                    &serde_json::json!({"customer_id": c, "device_id": d, "kind": "repair_onsite",
                        "fault_description": "压测：不制冷"}),
                )
            })
        }),
        (
            "list status=new limit=20",
            get(
                &http,
                &admin,
                format!("{api}/work-orders?status=new&limit=20"),
            ),
        ),
        (
            "list status=new page 50",
            get(
                &http,
                &admin,
                format!("{api}/work-orders?status=new&limit=20&offset=1000"),
            ),
        ),
        ("list customer+status", {
            let (http, api, t) = (http.clone(), api.clone(), admin.clone());
            Arc::new(move |r: &mut StdRng| {
                let (c, s) = &pairs[r.gen_range(0..pairs.len())];
                http.get(format!(
                    "{api}/work-orders?customer={c}&status={s}&limit=20"
                ))
                .bearer_auth(&t)
            })
        }),
        (
            "list all newest",
            get(&http, &admin, format!("{api}/work-orders?limit=20")),
        ),
        (
            "list customers",
            get(&http, &admin, format!("{api}/customers?limit=20")),
        ),
        (
            "list devices",
            get(&http, &admin, format!("{api}/devices?limit=20")),
        ),
        (
            "list complaints",
            get(&http, &admin, format!("{api}/complaints?limit=20")),
        ),
        ("follow-up calls page", {
            let (office, base) = (office.clone(), server.base.clone());
            Arc::new(move |_: &mut StdRng| office.get(format!("{base}/follow-ups")))
        }),
        ("lookup", {
            let (http, api, t) = (http.clone(), api.clone(), admin.clone());
            Arc::new(move |r: &mut StdRng| {
                let q = &fragments[r.gen_range(0..fragments.len())];
                http.get(format!("{api}/search"))
                    .query(&[("q", q.as_str())])
                    .bearer_auth(&t)
            })
        }),
        ("kpis month by store", {
            let (http, api, t) = (http.clone(), api.clone(), admin.clone());
            Arc::new(move |_: &mut StdRng| {
                http.get(format!("{api}/kpis?from={month_start}&to={today}&by=store"))
                    .bearer_auth(&t)
            })
        }),
    ];

    println!(
        "{:<26} {:>5} {:>9} {:>9} {:>9} {:>9} {:>7} {:>14}",
        "request", "conns", "req/s", "p50 ms", "p99 ms", "max ms", "failed", "server RSS MB"
    );
    for (name, make) in &shapes {
        if o.only.as_deref().is_some_and(|s| !name.contains(s)) {
            continue;
        }
        if o.warmup > 0 {
            phase(make.clone(), max_conns, Duration::from_secs(o.warmup)).await;
        }
        for &conns in &o.connections {
            let (n, secs, mut times, failed, first_error) =
                phase(make.clone(), conns, Duration::from_secs(o.seconds)).await;
            times.sort();
            let rss = server
                .rss()
                .map(|(now, peak)| format!("{now:.0} (peak {peak:.0})"))
                .unwrap_or_else(|| "—".into());
            println!(
                "{name:<26} {conns:>5} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {failed:>7} {rss:>14}",
                n as f64 / secs,
                super::pct(&times, 0.5),
                super::pct(&times, 0.99),
                super::pct(&times, 1.0),
            );
            if let Some(e) = first_error {
                println!("    first failure: {e}");
            }
        }
    }
    Ok(())
}

/// A GET of one fixed URL with the bearer token `token`.
fn get(http: &reqwest::Client, token: &str, url: String) -> MakeRequest {
    let (http, token) = (http.clone(), token.to_string());
    Arc::new(move |_: &mut StdRng| http.get(&url).bearer_auth(&token))
}

type PhaseResult = (usize, f64, Vec<Duration>, usize, Option<String>);

/// `conns` clients each sending `make`'s requests back to back for `length`.
async fn phase(make: MakeRequest, conns: usize, length: Duration) -> PhaseResult {
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::new();
    for c in 0..conns {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(c as u64 + 1);
            let mut times = Vec::new();
            let mut failed = 0usize;
            let mut first_error = None;
            while Instant::now() < deadline {
                let req = make(&mut rng);
                let t = Instant::now();
                let outcome = match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        r.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                    }
                    Ok(r) => {
                        let s = r.status();
                        Err(format!("{s}: {}", r.text().await.unwrap_or_default()))
                    }
                    Err(e) => Err(e.to_string()),
                };
                times.push(t.elapsed());
                if let Err(e) = outcome {
                    failed += 1;
                    first_error.get_or_insert(e);
                }
            }
            (times, failed, first_error)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    let mut first_error = None;
    for t in tasks {
        if let Ok((v, f, e)) = t.await {
            all.extend(v);
            failed += f;
            if first_error.is_none() {
                first_error = e;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    (all.len(), secs, all, failed, first_error)
}

async fn wait_ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > until {
            bail!("the server at {base} did not answer /healthz within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn login(http: &reqwest::Client, api: &str, user: &str) -> anyhow::Result<String> {
    let r: Value = http
        .post(format!("{api}/auth/login"))
        .json(&serde_json::json!({"username": user, "password": "demo123"}))
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("cannot sign in as {user}/demo123: load the demo data first"))?
        .json()
        .await?;
    r["token"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("no token for {user}"))
}

async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("GET {url}"))?
        .json()
        .await?)
}
