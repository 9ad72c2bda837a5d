//! A small org to test against: head office, two stores, a partner; users of each role; a
//! catalog; a customer with a device in store A.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use shouhou_app::actor::actor_for;
use shouhou_app::catalog::{NewPolicy, NewProduct};
use shouhou_app::customers::{AddressInput, NewCustomer};
use shouhou_app::devices::NewDevice;
use shouhou_app::org::{NewTechnician, NewUser};
use shouhou_app::{Actor, App, FixedClock, Settings};
use shouhou_domain::{Category, OrgKind, Role};
use shouhou_store::records::PartSpec;
use shouhou_store::repo::{org_units, users};
use shouhou_store::Db;

pub const PASSWORD: &str = "secret-pw";

/// The instant tests run at: 2026-03-10 10:00 in Shanghai.
pub fn test_now() -> DateTime<Utc> {
    "2026-03-10T02:00:00Z".parse().expect("valid time")
}

pub fn test_app(db: Db) -> (App, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(test_now()));
    (App::new(db, Settings::default(), clock.clone()), clock)
}

pub struct Fixture {
    pub hq: i64,
    pub store_a: i64,
    pub store_b: i64,
    pub partner_unit: i64,
    pub admin: Actor,
    pub manager: Actor,
    pub dispatcher: Actor,
    pub clerk_a: Actor,
    pub clerk_b: Actor,
    pub tech_a: Actor,
    pub tech_a_id: i64,
    pub tech_b_id: i64,
    pub partner: Actor,
    pub product: i64,
    pub policy: i64,
    pub customer: i64,
    pub device: i64,
}

async fn unit(app: &App, parent: Option<i64>, kind: OrgKind, code: &str, name: &str) -> i64 {
    let mut tx = app.db.begin().await.expect("begin");
    let id = org_units::insert(
        &mut tx,
        parent,
        kind.as_str(),
        code,
        name,
        None,
        Some(30.25),
        Some(120.16),
        app.now(),
    )
    .await
    .expect("org unit");
    tx.commit().await.expect("commit");
    id
}

async fn user(app: &App, name: &str, role: Role, unit: i64) -> Actor {
    let u = shouhou_app::org::create_user_unchecked(
        app,
        None,
        NewUser {
            username: name.into(),
            display_name: format!("{name} 测试"),
            password: PASSWORD.into(),
            role,
            org_unit_id: unit,
            phone: None,
        },
    )
    .await
    .expect("user");
    actor(app, u.id).await
}

/// Re-reads an actor (after its technician record exists).
pub async fn actor(app: &App, user_id: i64) -> Actor {
    let u = users::get(&app.db, user_id).await.expect("user");
    actor_for(&app.db, u, None).await.expect("actor")
}

pub async fn seed(app: &App) -> Fixture {
    let hq = unit(app, None, OrgKind::HeadOffice, "HQ", "总部").await;
    let store_a = unit(app, Some(hq), OrgKind::Store, "A", "东城店").await;
    let store_b = unit(app, Some(hq), OrgKind::Store, "B", "西湖店").await;
    let partner_unit = unit(app, Some(hq), OrgKind::Partner, "P", "顺达安装").await;
    let admin = user(app, "admin", Role::Admin, hq).await;
    let manager = user(app, "manager1", Role::Manager, hq).await;
    let dispatcher = user(app, "dispatcher1", Role::Dispatcher, hq).await;
    let clerk_a = user(app, "clerk_a", Role::Clerk, store_a).await;
    let clerk_b = user(app, "clerk_b", Role::Clerk, store_b).await;
    let tech_user_a = user(app, "tech_a", Role::Technician, store_a).await;
    let tech_user_b = user(app, "tech_b", Role::Technician, store_b).await;
    let partner = user(app, "partner1", Role::Partner, partner_unit).await;
    let mk_tech = |uid: i64, skills: Vec<Category>| NewTechnician {
        user_id: uid,
        org_unit_id: None,
        skills,
        start_address: None,
        start_lat: 30.27,
        start_lng: 120.15,
    };
    let tech_a_id = shouhou_app::org::create_technician(
        app,
        Some(&admin),
        mk_tech(
            tech_user_a.id(),
            vec![Category::Refrigeration, Category::Washing],
        ),
    )
    .await
    .expect("technician a")
    .id;
    let tech_b_id = shouhou_app::org::create_technician(
        app,
        Some(&admin),
        mk_tech(tech_user_b.id(), vec![Category::Copier]),
    )
    .await
    .expect("technician b")
    .id;
    let tech_a = actor(app, tech_user_a.id()).await;
    let product = shouhou_app::catalog::create_product(
        app,
        Some(&admin),
        NewProduct {
            brand: "海尔".into(),
            model: "BCD-470".into(),
            category: Category::Refrigeration,
            name: None,
            parts: vec![
                PartSpec {
                    name: "压缩机".into(),
                    price_fen: 68000,
                },
                PartSpec {
                    name: "门封条".into(),
                    price_fen: 4500,
                },
                PartSpec {
                    name: "温控器".into(),
                    price_fen: 12000,
                },
            ],
        },
    )
    .await
    .expect("product")
    .id;
    let policy = shouhou_app::catalog::create_policy(
        app,
        Some(&admin),
        NewPolicy {
            name: "海尔 12/36".into(),
            manufacturer: "海尔".into(),
            whole_unit_months: 12,
            main_parts_months: 36,
            main_parts: vec!["压缩机".into()],
            labour_months: None,
            starts_from: None,
        },
    )
    .await
    .expect("policy")
    .id;
    let c = shouhou_app::customers::create(
        app,
        &clerk_a,
        NewCustomer {
            org_unit_id: None,
            name: "王小明".into(),
            kind: None,
            tier: None,
            note: None,
            phones: vec!["13812345678".into()],
            addresses: vec![AddressInput {
                id: None,
                label: None,
                address: "杭州市拱墅区凤起路 88 号".into(),
                lat: Some(30.28),
                lng: Some(120.17),
            }],
            allow_duplicate_phone: false,
        },
    )
    .await
    .expect("customer");
    let device = shouhou_app::devices::create(
        app,
        &clerk_a,
        NewDevice {
            customer_id: c.id,
            product_id: product,
            serial: "HR2501ABCD".into(),
            site_address_id: None,
            purchase_date: days_ago(app, 100),
            purchase_store_id: Some(store_a),
            install_date: None,
            policy_id: policy,
        },
    )
    .await
    .expect("device")
    .id;
    Fixture {
        hq,
        store_a,
        store_b,
        partner_unit,
        admin,
        manager,
        dispatcher,
        clerk_a,
        clerk_b,
        tech_a,
        tech_a_id,
        tech_b_id,
        partner,
        product,
        policy,
        customer: c.id,
        device,
    }
}

pub fn days_ago(app: &App, n: i64) -> NaiveDate {
    app.today() - Duration::days(n)
}

/// The server on a free loopback port.
pub struct TestServer {
    pub base: String,
    pub app: App,
}

pub async fn spawn_app(app: App) -> TestServer {
    spawn_state(shouhou_web::AppState::new(app)).await
}

/// Serves `state` (e.g. with other request limits) on a loopback port.
pub async fn spawn_state(state: shouhou_web::AppState) -> TestServer {
    // A failing test shows the server's errors (5xx with their cause) with its output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("error")
        .with_test_writer()
        .try_init();
    let app = state.app.clone();
    let router = shouhou_web::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    TestServer {
        base: format!("http://{addr}"),
        app,
    }
}

/// Gives `technician` a shift on the test day, 08:30–17:30 in Shanghai.
pub async fn test_day_shift(app: &App, f: &Fixture, technician: i64) {
    shouhou_app::org::set_shift(
        app,
        &f.dispatcher,
        technician,
        shouhou_app::org::NewShift {
            day: "2026-03-10".parse().expect("date"),
            starts_at: "2026-03-10T00:30:00Z".parse().expect("time"),
            ends_at: "2026-03-10T09:30:00Z".parse().expect("time"),
        },
    )
    .await
    .expect("shift");
}
