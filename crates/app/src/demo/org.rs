//! The organisation: head office, three stores that differ in size and trade, an installation
//! partner, the office staff, twelve technicians with their skills and habits, and the shift rota
//! (five days a week, six from May to September, a week of leave each, an evening shift per
//! store).

use chrono::{DateTime, Datelike, Utc};
use rand::rngs::StdRng;
use shouhou_domain::sla::default_rules;
use shouhou_domain::{Category, Role};
use shouhou_store::{args, Tx};

use super::names::Names;
use super::Calendar;
use crate::auth::hash_password;
use crate::{AppError, Result};

/// A store: id, code, name, address, service hotline, position.
pub struct Store {
    pub id: i64,
    pub code: &'static str,
    pub name: &'static str,
    pub address: &'static str,
    pub hotline: &'static str,
    pub lat: f64,
    pub lng: f64,
}

pub const STORES: [Store; 3] = [
    Store {
        id: 2,
        code: "S01",
        name: "东城店",
        address: "杭州市拱墅区凤起路 88 号",
        hotline: "0571-85061234",
        lat: 30.2800,
        lng: 120.1700,
    },
    Store {
        id: 3,
        code: "S02",
        name: "西湖店",
        address: "杭州市西湖区文三路 398 号",
        hotline: "0571-88213456",
        lat: 30.2760,
        lng: 120.1250,
    },
    Store {
        id: 4,
        code: "S03",
        name: "滨江店",
        address: "杭州市滨江区江南大道 1088 号",
        hotline: "0571-86697788",
        lat: 30.2080,
        lng: 120.2100,
    },
];

/// The installation partner's org unit.
pub const PARTNER_UNIT: i64 = 5;

/// A technician as the simulation sees them.
pub struct Tech {
    pub id: i64,
    pub user: i64,
    pub store: i64,
    pub skills: &'static [Category],
    pub lat: f64,
    pub lng: f64,
    /// Works the evening shift (11:00–20:00) that takes the after-work appointments.
    pub late: bool,
    /// Time on site relative to the crew (1.0 = the crew's pace).
    pub speed: f64,
    /// Driving time relative to the crew.
    pub travel: f64,
    /// Added to the store's first-time-fix chance.
    pub fix: f64,
    /// Chance that a repair this technician called fixed breaks again within a month.
    pub relapse: f64,
    /// Added to the chance of a dissatisfied customer.
    pub manner: f64,
    /// Chance that a job takes much longer than planned (a stubborn fault, a talkative
    /// customer), which makes the next appointments late.
    pub overrun: f64,
}

struct Crew {
    store: i64,
    skills: &'static [Category],
    late: bool,
    /// Weekdays off (0 = Monday); the second is worked from May to September.
    off: [u32; 2],
    speed: f64,
    travel: f64,
    fix: f64,
    relapse: f64,
    manner: f64,
    overrun: f64,
    senior: bool,
}

use Category::*;
#[rustfmt::skip]
const CREW: [Crew; 12] = [
    // store, skills, evening shift, days off, speed, travel, fix, relapse, manner, overrun, senior
    // 东城店: three old hands, punctual.
    crew(2, &[Refrigeration, Washing, Kitchen], false, [1, 2], 0.95, 0.9, 0.03, 0.04, 0.0, 0.02, true),
    crew(2, &[TvAudio, SmallAppliance, Washing, Refrigeration], true, [3, 4], 1.0, 0.95, 0.02, 0.05, 0.0, 0.03, false),
    crew(2, &[Copier, Printer, TvAudio, SmallAppliance], false, [6, 0], 1.05, 0.9, 0.04, 0.03, 0.0, 0.02, true),
    // 西湖店: the copier store; tech05 calls repairs fixed that come back.
    crew(3, &[Refrigeration, Washing, Kitchen], false, [0, 1], 1.0, 1.0, 0.0, 0.05, 0.01, 0.04, false),
    crew(3, &[Refrigeration, TvAudio, Kitchen, SmallAppliance], false, [2, 3], 0.8, 1.05, 0.06, 0.24, 0.03, 0.05, false),
    crew(3, &[Copier, Printer], false, [6, 2], 1.1, 1.0, 0.02, 0.04, 0.0, 0.03, true),
    crew(3, &[Copier, Printer, TvAudio], true, [5, 6], 1.0, 1.05, -0.02, 0.05, 0.01, 0.04, false),
    crew(3, &[Washing, TvAudio, SmallAppliance, Refrigeration], false, [4, 5], 1.05, 1.1, -0.03, 0.06, 0.02, 0.05, false),
    // 滨江店: a young crew, slower on the road and less sure of the time a job takes (more late
    // arrivals), learning (first-time fix rises over the year).
    crew(4, &[Refrigeration, Washing, Kitchen], false, [0, 1], 1.1, 1.2, 0.0, 0.05, 0.02, 0.08, true),
    crew(4, &[Refrigeration, TvAudio, Kitchen, SmallAppliance], true, [2, 3], 1.05, 1.25, -0.03, 0.06, 0.03, 0.09, false),
    crew(4, &[Copier, Printer, Washing], false, [6, 0], 1.15, 1.15, -0.04, 0.05, 0.02, 0.07, false),
    crew(4, &[TvAudio, SmallAppliance, Washing, Refrigeration], false, [4, 5], 1.0, 1.3, 0.0, 0.05, 0.04, 0.08, false),
];

#[allow(clippy::too_many_arguments)]
const fn crew(
    store: i64,
    skills: &'static [Category],
    late: bool,
    off: [u32; 2],
    speed: f64,
    travel: f64,
    fix: f64,
    relapse: f64,
    manner: f64,
    overrun: f64,
    senior: bool,
) -> Crew {
    Crew {
        store,
        skills,
        late,
        off,
        speed,
        travel,
        fix,
        relapse,
        manner,
        overrun,
        senior,
    }
}

/// The office users who act on orders.
pub struct Staff {
    pub clerk: i64,
    pub dispatcher: i64,
    pub manager: i64,
    pub followup: i64,
    pub partner: i64,
    /// (store, its manager).
    pub store_managers: Vec<(i64, i64)>,
}

impl Staff {
    /// The manager of `store`, else the head office's.
    pub fn manager_of(&self, store: i64) -> i64 {
        self.store_managers
            .iter()
            .find(|(s, _)| *s == store)
            .map_or(self.manager, |(_, m)| *m)
    }
}

pub struct Org {
    pub techs: Vec<Tech>,
    pub staff: Staff,
    pub logins: Vec<(String, Role)>,
    /// Shifts by technician and day index of the calendar (history and two weeks ahead).
    shifts: Vec<Vec<Option<Shift>>>,
}

/// A shift's start and end.
type Shift = (DateTime<Utc>, DateTime<Utc>);

/// Days of the rota after today.
pub const AHEAD: i64 = 14;

impl Org {
    pub fn shift(&self, tech: usize, day: i64) -> Option<Shift> {
        let d = usize::try_from(day).ok()?;
        self.shifts.get(tech)?.get(d).copied().flatten()
    }
}

/// Whether a month is in the air-conditioning peak (May to September).
pub fn peak(month: u32) -> bool {
    (5..=9).contains(&month)
}

/// The rota of one technician on one day: (start, end) in local minutes, or none.
fn rota(c: &Crew, k: usize, cal: &Calendar, day: i64) -> Option<(i64, i64)> {
    let date = cal.day(day);
    let wd = date.weekday().num_days_from_monday();
    let summer = peak(date.month());
    if wd == c.off[0] || (!summer && wd == c.off[1]) {
        return None;
    }
    // A week of annual leave each, spread over the year outside May to September.
    let doy = i64::from(date.ordinal0());
    let leave = (20 + 29 * k as i64) % 365;
    let leave = if (115..275).contains(&leave) {
        leave + 160
    } else {
        leave
    } % 365;
    if (doy - leave).rem_euclid(365) < 7 {
        return None;
    }
    Some(match (c.late, summer) {
        (false, false) => (8 * 60 + 30, 17 * 60 + 30),
        (false, true) => (8 * 60, 18 * 60),
        (true, false) => (11 * 60, 20 * 60),
        (true, true) => (11 * 60, 20 * 60 + 30),
    })
}

/// Writes org units, users, technicians, shifts and SLA rules.
pub async fn load(
    tx: &mut Tx,
    rng: &mut StdRng,
    names: &Names,
    cal: &Calendar,
    password: &str,
) -> Result<Org> {
    let now = cal.now;
    let mut rows = vec![args![
        1i64,
        None::<i64>,
        "head_office",
        "HQ",
        "总部",
        "杭州市上城区延安路 1 号",
        30.2500,
        120.1650,
        Some("0571-87001234"),
        now,
        now
    ]];
    for s in &STORES {
        rows.push(args![
            s.id,
            Some(1i64),
            "store",
            s.code,
            s.name,
            s.address,
            s.lat,
            s.lng,
            Some(s.hotline),
            now,
            now
        ]);
    }
    rows.push(args![
        PARTNER_UNIT,
        Some(1i64),
        "partner",
        "P01",
        "顺达安装服务部",
        "杭州市余杭区五常大道 66 号",
        30.2900,
        120.0500,
        None::<&str>,
        now,
        now
    ]);
    tx.bulk_insert(
        "org_units",
        &[
            "id",
            "parent_id",
            "kind",
            "code",
            "name",
            "address",
            "lat",
            "lng",
            "phone",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;

    // ---- users, each password hashed with its own salt (in parallel)
    let mut people: Vec<(String, String, Role, i64)> = vec![
        ("admin".into(), "系统管理员".into(), Role::Admin, 1),
        ("manager1".into(), "周经理".into(), Role::Manager, 1),
        ("dispatcher1".into(), "吴调度".into(), Role::Dispatcher, 1),
        ("clerk1".into(), "郑信息员".into(), Role::Clerk, 1),
        ("finance1".into(), "钱结算".into(), Role::Finance, 1),
        ("followup1".into(), "孙回访".into(), Role::Followup, 1),
        (
            "partner1".into(),
            "顺达安装".into(),
            Role::Partner,
            PARTNER_UNIT,
        ),
    ];
    for (i, c) in CREW.iter().enumerate() {
        let name = format!("{}师傅", names.surname(rng));
        people.push((format!("tech{:02}", i + 1), name, Role::Technician, c.store));
    }
    // Each store's own manager (店长) owns the store's complaints; 周经理 at the head office is
    // the next level up.
    for (s, name) in STORES.iter().zip(["陈店长", "林店长", "黄店长"]) {
        people.push((format!("manager{}", s.id), name.into(), Role::Manager, s.id));
    }
    let hashes: Vec<_> = people
        .iter()
        .map(|_| {
            let pw = password.to_string();
            tokio::task::spawn_blocking(move || hash_password(&pw))
        })
        .collect();
    let mut rows = Vec::new();
    for (i, ((u, name, role, unit), h)) in people.iter().zip(hashes).enumerate() {
        let hash = h.await.map_err(|e| AppError::Internal(e.to_string()))??;
        // The store managers' phones come from their store, so the random stream (and the rest
        // of the city) stays as it was before they were added.
        let phone = if i < people.len() - STORES.len() {
            names.mobile(rng)
        } else {
            format!("1390571{:04}", unit * 100 + 1)
        };
        rows.push(args![
            i as i64 + 1,
            u.as_str(),
            name.as_str(),
            hash,
            role.as_str(),
            *unit,
            phone,
            now,
            now
        ]);
    }
    tx.bulk_insert(
        "users",
        &[
            "id",
            "username",
            "display_name",
            "password_hash",
            "role",
            "org_unit_id",
            "phone",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    let user = |name: &str| {
        people
            .iter()
            .position(|p| p.0 == name)
            .map(|i| i as i64 + 1)
            .unwrap_or(1)
    };
    let staff = Staff {
        clerk: user("clerk1"),
        dispatcher: user("dispatcher1"),
        manager: user("manager1"),
        followup: user("followup1"),
        partner: user("partner1"),
        store_managers: STORES
            .iter()
            .map(|s| (s.id, user(&format!("manager{}", s.id))))
            .collect(),
    };

    // ---- technicians and their rota
    let mut techs = Vec::new();
    let mut rows = Vec::new();
    for (i, c) in CREW.iter().enumerate() {
        let store = STORES
            .iter()
            .find(|s| s.id == c.store)
            .unwrap_or(&STORES[0]);
        let id = i as i64 + 1;
        let skills: Vec<&str> = c.skills.iter().map(|s| s.as_str()).collect();
        rows.push(args![
            id,
            user(&format!("tech{:02}", i + 1)),
            c.store,
            serde_json::json!(skills).to_string(),
            store.address,
            store.lat,
            store.lng,
            c.senior,
            now,
            now
        ]);
        techs.push(Tech {
            id,
            user: user(&format!("tech{:02}", i + 1)),
            store: c.store,
            skills: c.skills,
            lat: store.lat,
            lng: store.lng,
            late: c.late,
            speed: c.speed,
            travel: c.travel,
            fix: c.fix,
            relapse: c.relapse,
            manner: c.manner,
            overrun: c.overrun,
        });
    }
    tx.bulk_insert(
        "technicians",
        &[
            "id",
            "user_id",
            "org_unit_id",
            "skills",
            "start_address",
            "start_lat",
            "start_lng",
            "senior",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    let mut shifts = Vec::new();
    let mut rows = Vec::new();
    for (k, c) in CREW.iter().enumerate() {
        let mut mine = Vec::new();
        for day in 0..cal.days + AHEAD {
            let s = rota(c, k, cal, day).map(|(a, b)| {
                let date = cal.day(day);
                (cal.at(date, a), cal.at(date, b))
            });
            if let Some((a, b)) = s {
                rows.push(args![k as i64 + 1, cal.day(day), a, b]);
            }
            mine.push(s);
        }
        shifts.push(mine);
    }
    tx.bulk_insert(
        "shifts",
        &["technician_id", "day", "starts_at", "ends_at"],
        rows,
    )
    .await?;
    shouhou_store::repo::sla::replace(tx, &default_rules()).await?;
    Ok(Org {
        techs,
        staff,
        logins: people.iter().map(|p| (p.0.clone(), p.2)).collect(),
        shifts,
    })
}
