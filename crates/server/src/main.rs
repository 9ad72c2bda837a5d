//! The `shouhou` binary: serve | migrate | demo | backup | bench.

mod bench;

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use shouhou_app::demo::{DemoOptions, DemoReport};
use shouhou_app::{App, Clock, Settings, SystemClock};
use shouhou_domain::{OrgKind, Role};
use shouhou_store::Db;

#[derive(Parser)]
#[command(
    name = "shouhou",
    version,
    about = "售后 — after-sales service management"
)]
struct Cli {
    /// The store: an SQLite file path or a postgres:// URL.
    #[arg(
        long,
        global = true,
        env = "SHOUHOU_DATABASE_URL",
        default_value = "./shouhou.db"
    )]
    db: String,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs the server (migrates the store first).
    Serve {
        #[arg(long, env = "SHOUHOU_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Load the demo data into an empty store and print the demo logins.
        #[arg(long)]
        demo: bool,
        #[arg(long, env = "SHOUHOU_DEMO_PASSWORD", default_value = "demo123")]
        demo_password: String,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The first admin's password for a new store without --demo (asked for when absent).
        #[arg(long, env = "SHOUHOU_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
        /// Mark cookies Secure (serve behind HTTPS).
        #[arg(long, env = "SHOUHOU_SECURE_COOKIES")]
        secure_cookies: bool,
        /// The address customers reach, printed on QR labels (default: the office browser's).
        #[arg(long, env = "SHOUHOU_PUBLIC_URL")]
        public_url: Option<String>,
        /// Seconds an unanswered idempotency key stays with its request before a retry may run
        /// it again (PostgreSQL, where another process may still be running it).
        #[arg(long, env = "SHOUHOU_IDEMPOTENCY_LEASE", default_value_t = 30)]
        idempotency_lease: i64,
        /// MiB of memory for the KPI readings of finished months (0: every reading from the
        /// store, and no dashboards read at start).
        #[arg(long, env = "SHOUHOU_KPI_MEMORY_MB", default_value_t = 48)]
        kpi_memory_mb: u64,
    },
    /// Writes a sheet of QR labels (A4 HTML, 24 a page) for a store's devices.
    Labels {
        /// The store's code (or id); its units below are included.
        #[arg(long)]
        store: String,
        /// The address customers reach, e.g. https://service.example.cn
        #[arg(long, env = "SHOUHOU_PUBLIC_URL")]
        base_url: String,
        /// Output file (HTML; print it or save it as PDF from a browser).
        #[arg(long, default_value = "labels.html")]
        out: String,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, default_value_t = 240)]
        limit: i64,
    },
    /// Applies the schema migrations.
    Migrate,
    /// Loads demo data into an empty store.
    Demo {
        /// Customers (default: the demo city's 20,000; per region in a chain).
        #[arg(long)]
        customers: Option<usize>,
        /// Devices per customer on average (default 1.5; 2 for a large lookup store).
        #[arg(long)]
        devices_per_customer: Option<f64>,
        /// Orders of history, about 46 a day (default: the city's year, 17,000). More make a
        /// chain: ⌈orders / 17,000⌉ regions, each a copy of the city (`--customers` each), e.g.
        /// `--orders 1000000` for a chain's store to measure at scale.
        #[arg(long)]
        orders: Option<usize>,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value = "demo123")]
        password: String,
    },
    /// Writes a consistent copy of a live SQLite store.
    Backup {
        #[arg(long)]
        to: String,
    },
    /// KPI facts: `kpi rebuild` computes them all again from the records.
    Kpi {
        #[command(subcommand)]
        what: KpiCmd,
    },
    /// Measures: `bench lookup`, `bench create`.
    Bench {
        #[command(subcommand)]
        what: bench::What,
    },
}

#[derive(Subcommand)]
enum KpiCmd {
    /// Computes every work order's KPI facts again from the records (after an import, or to
    /// check the incremental ones).
    Rebuild,
}

fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    fix_malloc_thresholds();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

/// Two malloc arenas instead of glibc's default of eight per core. Each of the server's threads
/// (the runtime's workers, one per SQLite connection) would otherwise get an arena of its own
/// that keeps what a burst of large pages freed: under `bench http` at 32 connections the peak
/// RSS was 213–227 MB with the default and 116–128 MB with two, at the same throughput.
/// Called before the runtime starts its threads; an operator's `MALLOC_ARENA_MAX` wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Large blocks (a response's body, a page of rows) straight from the OS and back to it when
/// freed, and the top of a heap returned once 128 KiB of it are free. glibc starts with these
/// values but raises both each time a large block is freed, up to 32 MiB, after which a burst's
/// freed memory stays in the heap: on the chain of a million orders the RSS after 32
/// connections of creates was 140 MB with the moving thresholds and 104 MB with them fixed,
/// after the KPI table 169 and 112 MB (same server, same runs). Called before any thread starts;
/// an operator's `MALLOC_MMAP_THRESHOLD_` or `MALLOC_TRIM_THRESHOLD_` wins.
fn fix_malloc_thresholds() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const BYTES: libc::c_int = 128 * 1024;
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, BYTES);
            }
        }
        if std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_none() {
            // SAFETY: as above.
            unsafe {
                libc::mallopt(libc::M_TRIM_THRESHOLD, BYTES);
            }
        }
    }
}

/// Hands the memory a large piece of work freed (the warm-up's and a catch-up's reads of a
/// year of facts) back to the OS. glibc keeps freed memory inside its heaps for reuse, so after
/// the KPI warm-up on a store of a million orders the server held 139 MB, 118 MB of it
/// allocated once and freed; what stays in use (the KPI readings kept, the caches) is unchanged.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's heaps; it may be called
    // from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOUHOU_LOG")
                .unwrap_or_else(|_| "info,sqlx=error,tower_http=info".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Migrate => {
            open(&cli.db).await?;
            println!("migrated {}", redact(&cli.db));
        }
        Cmd::Backup { to } => {
            let db = Db::connect(&cli.db).await?;
            match db.backend() {
                shouhou_store::Backend::Postgres => {
                    bail!("backup of a PostgreSQL store: use pg_dump (e.g. pg_dump -Fc DBNAME > shouhou.dump)")
                }
                shouhou_store::Backend::Sqlite => {
                    if std::path::Path::new(&to).exists() {
                        bail!("{to} exists already: choose a new file");
                    }
                    db.backup_to(&to).await?;
                    println!("backup written to {to}");
                }
            }
        }
        Cmd::Demo {
            customers,
            devices_per_customer,
            orders,
            seed,
            password,
        } => {
            let app = open(&cli.db).await?;
            let mut o = DemoOptions::city(seed, &password, app.now());
            o.customers = customers.unwrap_or(o.customers);
            o.orders = orders.unwrap_or(o.orders);
            o.devices_per_customer = devices_per_customer.unwrap_or(if o.customers > 100_000 {
                2.0
            } else {
                o.devices_per_customer
            });
            let r = load_demo(&app, &o).await?;
            print_report(&r, &password);
        }
        Cmd::Serve {
            listen,
            demo,
            demo_password,
            seed,
            admin_password,
            secure_cookies,
            public_url,
            idempotency_lease,
            kpi_memory_mb,
        } => {
            let settings = Settings {
                public_url,
                ..Settings::default()
            };
            let mut app = open_with(&cli.db, settings).await?;
            app.kpi_cache = Arc::new(shouhou_store::kpi::Cache::new(kpi_memory_mb << 20));
            let (users,): (i64,) = app
                .db
                .fetch_one("SELECT COUNT(*) FROM users", vec![])
                .await?;
            if users == 0 {
                if demo {
                    let o = DemoOptions::city(seed, &demo_password, app.now());
                    let r = load_demo(&app, &o).await?;
                    print_report(&r, &demo_password);
                } else {
                    first_admin(&app, admin_password).await?;
                }
            } else if demo {
                println!("store has data already: demo data not loaded (demo logins work if it was loaded before)");
            }
            if app.db.backend() == shouhou_store::Backend::Sqlite {
                // One process serves an SQLite store: claims left by an earlier one are dead.
                let n = shouhou_store::idempotency::release_unanswered(&app.db).await?;
                if n > 0 {
                    println!("{n} unanswered idempotency keys of an earlier run released");
                }
            }
            tokio::spawn(purge_idempotency_keys(app.clone()));
            tokio::spawn(escalate_overdue_complaints(app.clone()));
            tokio::spawn(catch_up_kpis(app.clone()));
            if kpi_memory_mb > 0 {
                tokio::spawn(warm_kpis(app.clone()));
            }
            let mut state = shouhou_web::AppState::new(app.clone());
            state.secure_cookies = secure_cookies;
            state.idempotency_lease = chrono::Duration::seconds(idempotency_lease.max(1));
            let router = shouhou_web::router(state);
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            println!("shouhou listening on http://{}", listener.local_addr()?);
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            app.db.close().await;
        }
        Cmd::Bench { what } => bench::run(&cli.db, what).await?,
        Cmd::Kpi {
            what: KpiCmd::Rebuild,
        } => {
            let app = open(&cli.db).await?;
            let t = std::time::Instant::now();
            let n = shouhou_app::kpi::rebuild(&app).await?;
            println!(
                "KPI facts of {n} work orders rebuilt in {:.1} s",
                t.elapsed().as_secs_f64()
            );
        }
        Cmd::Labels {
            store,
            base_url,
            out,
            offset,
            limit,
        } => {
            let app = open(&cli.db).await?;
            let unit = shouhou_app::labels::store_unit(&app, None, &store)
                .await
                .map_err(|_| anyhow::anyhow!("no org unit with code or id {store:?}"))?;
            let labels = shouhou_app::labels::labels(&app, &unit, &base_url, offset, limit).await?;
            let html = shouhou_app::labels::sheet(
                &format!("{} · 设备二维码标签", unit.name),
                "扫码报修 · 查进度",
                &labels,
            );
            std::fs::write(&out, html).with_context(|| format!("cannot write {out}"))?;
            println!("{} labels for {} written to {out}", labels.len(), unit.name);
        }
    }
    Ok(())
}

/// Forgets idempotency keys older than a day, hourly.
async fn purge_idempotency_keys(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(e) = shouhou_store::idempotency::purge(&app.db, app.now()).await {
            tracing::warn!(error = ?e, "could not purge old idempotency keys");
        }
    }
}

/// Escalates open complaints past their due time to the manager one level up, every minute.
async fn escalate_overdue_complaints(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        if let Err(e) = shouhou_app::complaints::escalate_overdue(&app).await {
            tracing::warn!(error = ?e, "could not escalate overdue complaints");
        }
    }
}

/// Orders recomputed in one catch-up after which its freed memory is handed back.
const CAUGHT_UP_MANY: usize = 1_000;

/// Keeps the KPI facts current: the orders changed since the last round, every 10 s (every
/// reading of the KPIs also catches up first).
async fn catch_up_kpis(app: App) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        every.tick().await;
        match shouhou_app::kpi::catch_up(&app).await {
            Ok(n) if n >= CAUGHT_UP_MANY => return_freed_memory(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "could not bring the KPI facts up to date"),
        }
    }
}

/// Reads the managers' first dashboards once at start, so that the finished months they hold
/// are in memory before the first manager opens them.
async fn warm_kpis(app: App) {
    let t = std::time::Instant::now();
    match shouhou_app::kpi::warm(&app).await {
        Ok(n) => {
            return_freed_memory();
            tracing::info!(
                scopes = n,
                ms = t.elapsed().as_millis() as u64,
                kept_kib = app.kpi_cache.bytes() >> 10,
                "KPI dashboards read into memory"
            )
        }
        Err(e) => tracing::warn!(error = ?e, "could not read the KPI dashboards into memory"),
    }
}

/// Opens and migrates the store.
pub async fn open(url: &str) -> anyhow::Result<App> {
    open_with(url, Settings::default()).await
}

pub async fn open_with(url: &str, settings: Settings) -> anyhow::Result<App> {
    let db = Db::connect(url)
        .await
        .with_context(|| format!("cannot open the store {}", redact(url)))?;
    db.migrate().await.context("migration failed")?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(App::new(db, settings, clock))
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn load_demo(app: &App, o: &DemoOptions) -> anyhow::Result<DemoReport> {
    let bar = ProgressBar::new(1);
    bar.set_style(
        ProgressStyle::with_template("{msg:>28} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let b = bar.clone();
    let progress = move |stage: &str, done: u64, total: u64| {
        b.set_message(stage.to_string());
        b.set_length(total.max(1));
        b.set_position(done);
    };
    let r = shouhou_app::demo::generate(app, o, &progress)
        .await
        .map_err(|e| anyhow::anyhow!("demo data: {e}"))?;
    bar.finish_and_clear();
    Ok(r)
}

fn print_report(r: &DemoReport, password: &str) {
    println!(
        "demo data loaded: {} customers, {} devices, {} work orders, {} visits",
        r.customers, r.devices, r.work_orders, r.visits
    );
    println!("demo logins (password: {password}):");
    for (u, role) in &r.logins {
        println!("  {u:<12} {}", role.label(shouhou_domain::Lang::ZhCn));
    }
}

/// A new store without demo data gets a head office and an admin.
async fn first_admin(app: &App, password: Option<String>) -> anyhow::Result<()> {
    let password = match password {
        Some(p) => p,
        None if std::io::stdin().is_terminal() => {
            print!("新的数据库：请设置管理员 admin 的密码 / new store: choose the admin password: ");
            std::io::stdout().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim().to_string()
        }
        None => bail!(
            "new store: set the first admin's password with --admin-password or SHOUHOU_ADMIN_PASSWORD (or start with --demo)"
        ),
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let hq = shouhou_store::repo::org_units::insert(
        &mut tx,
        None,
        OrgKind::HeadOffice.as_str(),
        "HQ",
        "总部",
        None,
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    shouhou_app::org::create_user_unchecked(
        app,
        None,
        shouhou_app::org::NewUser {
            username: "admin".into(),
            display_name: "系统管理员".into(),
            password,
            role: Role::Admin,
            org_unit_id: hq,
            phone: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message(shouhou_domain::Lang::ZhCn)))?;
    println!("admin created; sign in as admin");
    Ok(())
}
