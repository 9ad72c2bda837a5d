//! What comes in each day: install orders for the devices sold the day before, calls about the
//! installed base (more air-conditioning and refrigeration in summer, copiers on working days),
//! repairs that come back, at the hours people call. The day's volume follows the season; each
//! call picks a device that is installed and has no open order.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use shouhou_domain::{Category, Channel, Priority, Tier, WorkOrderType};

use super::archive::{needs_install, Base};
use super::names::{fault_texts, weighted};
use super::Calendar;

/// What the customer asked for when the order was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// As soon as possible, within the SLA's arrive-by.
    Asap,
    /// A window on a day the customer chose (day index) or later if that day is full.
    Window(i64),
    /// Urgent: today if anybody can.
    Urgent,
}

/// A new order as it reaches the clerk.
pub struct Arrival {
    pub device: usize,
    pub created: DateTime<Utc>,
    pub kind: WorkOrderType,
    pub priority: Priority,
    pub channel: Channel,
    pub fault: &'static str,
    pub want: Want,
    /// The customer cancels at this time (before any visit).
    pub cancel: Option<DateTime<Utc>>,
}

const CATEGORIES: [Category; 7] = [
    Category::Refrigeration,
    Category::Washing,
    Category::TvAudio,
    Category::Kitchen,
    Category::SmallAppliance,
    Category::Copier,
    Category::Printer,
];
/// Calls by store (东城, 西湖, 西湖 is the copier store, 滨江) and category, per cent.
const MIX: [(i64, f64, [f64; 7]); 3] = [
    (2, 25.0, [33.0, 17.0, 13.0, 8.0, 6.0, 14.0, 9.0]),
    (3, 42.0, [27.0, 13.0, 10.0, 6.0, 4.0, 25.0, 15.0]),
    (4, 33.0, [35.0, 17.0, 12.0, 8.0, 5.0, 14.0, 9.0]),
];
/// Refrigeration and air conditioning by month; the rest dips at the Spring Festival.
const COOLING: [f64; 12] = [0.6, 0.5, 0.6, 0.8, 1.1, 1.5, 1.9, 1.8, 1.2, 0.8, 0.6, 0.6];
const OTHERS: [f64; 12] = [1.0, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05];
/// When people call (local minutes): mornings and afternoons, a few evenings.
const CALLS: [(i64, i64, f64); 4] = [
    (8 * 60, 12 * 60, 40.0),
    (12 * 60, 18 * 60, 45.0),
    (18 * 60, 20 * 60, 10.0),
    (20 * 60, 23 * 60, 5.0),
];

fn season(cat: Category, month0: usize, weekday: u32) -> f64 {
    let m = if cat == Category::Refrigeration {
        COOLING[month0]
    } else {
        OTHERS[month0]
    };
    let office = matches!(cat, Category::Copier | Category::Printer);
    m * match (office, weekday) {
        (true, 5) => 0.5,
        (true, 6) => 0.15,
        _ => 1.0,
    }
}

/// The calls a day brings, by the season and the weekday (in units of the mix's per cent).
fn raw(day: NaiveDate) -> f64 {
    let (m, wd) = (day.month0() as usize, day.weekday().num_days_from_monday());
    MIX.iter()
        .map(|(_, share, mix)| {
            share
                * CATEGORIES
                    .iter()
                    .zip(mix)
                    .map(|(c, x)| x * season(*c, m, wd))
                    .sum::<f64>()
        })
        .sum()
}

/// Days of history, ending today at minute `minute`, that bring `orders` orders when the
/// year brings `per_day` a day on average (a week at least, a year at most).
pub fn span(today: NaiveDate, minute: i64, orders: usize, per_day: f64) -> i64 {
    let year: Vec<f64> = (0..365).map(|k| raw(today - Duration::days(k))).collect();
    let mean = year.iter().sum::<f64>() / 365.0;
    let mut acc = 0.0;
    for (k, w) in year.iter().enumerate() {
        let share = if k == 0 { called_by(minute) } else { 1.0 };
        acc += per_day * w / mean * share;
        if acc >= orders as f64 {
            return (k as i64 + 1).max(7);
        }
    }
    365
}

/// The share of a day's calls made before `minute`.
fn called_by(minute: i64) -> f64 {
    let total: f64 = CALLS.iter().map(|c| c.2).sum();
    CALLS
        .iter()
        .map(|&(a, b, w)| w * ((minute.clamp(a, b) - a) as f64 / (b - a) as f64))
        .sum::<f64>()
        / total
}

/// A call time (local minute) before `until`.
fn call_minute(rng: &mut StdRng, until: i64) -> i64 {
    let w: Vec<f64> = CALLS
        .iter()
        .map(|&(a, b, w)| w * ((until.clamp(a, b) - a) as f64 / (b - a) as f64))
        .collect();
    let (a, b, _) = CALLS[weighted(rng, &w)];
    rng.gen_range(a..b.min(until).max(a + 1))
}

pub struct Demand {
    /// Orders still to come in, by day (the season's share of the total, minus installs).
    quota: Vec<i64>,
    /// Devices that may have a call, by store and category.
    pools: Vec<Vec<Vec<usize>>>,
    /// Devices entering the pools on a day (bought or installed recently).
    joining: Vec<Vec<usize>>,
    /// Devices sold on a day that need installing.
    sold: Vec<Vec<usize>>,
    /// Devices with an open order.
    busy: Vec<bool>,
}

fn store_slot(store: i64) -> usize {
    MIX.iter().position(|m| m.0 == store).unwrap_or(0)
}

fn cat_slot(c: Category) -> usize {
    CATEGORIES.iter().position(|x| *x == c).unwrap_or(0)
}

impl Demand {
    pub fn new(base: &Base, cal: &Calendar, orders: usize) -> Demand {
        let days = cal.days as usize;
        let mut pools = vec![vec![Vec::new(); CATEGORIES.len()]; MIX.len()];
        let mut joining = vec![Vec::new(); days + 8];
        let mut sold = vec![Vec::new(); days];
        for (i, d) in base.devices.iter().enumerate() {
            let c = d.category();
            if d.purchase < cal.start {
                pools[store_slot(d.store)][cat_slot(c)].push(i);
            } else if needs_install(c) {
                sold[cal.index(d.purchase) as usize].push(i);
            } else {
                joining[cal.index(d.purchase) as usize + 7].push(i);
            }
        }
        // The season's volume per day, today only up to now.
        let weights: Vec<f64> = (0..cal.days)
            .map(|i| {
                let day = cal.day(i);
                if day == cal.today {
                    raw(day) * called_by(cal.minute(cal.now))
                } else {
                    raw(day)
                }
            })
            .collect();
        let total: f64 = weights.iter().sum::<f64>().max(1e-9);
        let mut quota = Vec::with_capacity(days);
        let mut acc = 0.0;
        let mut given = 0i64;
        for (i, w) in weights.iter().enumerate() {
            acc += orders as f64 * w / total;
            let q = acc.round() as i64 - given;
            given += q;
            quota.push(q - sold[i].len() as i64);
        }
        Demand {
            quota,
            pools,
            joining,
            sold,
            busy: vec![false; base.devices.len()],
        }
    }

    /// A device is done with its order (or was just installed on `day`: it may call from a few
    /// days later).
    pub fn release(&mut self, device: usize) {
        if let Some(b) = self.busy.get_mut(device) {
            *b = false;
        }
    }

    pub fn installed(&mut self, device: usize, day: i64) {
        if let Some(j) = self.joining.get_mut(day as usize + 3) {
            j.push(device);
        }
    }

    /// The orders of day `i`, in the order they came in: installs, repairs that came back
    /// (`back`: device and time) and calls.
    pub fn day(
        &mut self,
        rng: &mut StdRng,
        base: &Base,
        cal: &Calendar,
        i: i64,
        back: Vec<(usize, DateTime<Utc>)>,
    ) -> Vec<Arrival> {
        let iu = i as usize;
        let day = cal.day(i);
        let (m, wd) = (cal.month0(day), day.weekday().num_days_from_monday());
        if let Some(j) = self.joining.get_mut(iu) {
            for d in std::mem::take(j) {
                let dev = &base.devices[d];
                self.pools[store_slot(dev.store)][cat_slot(dev.category())].push(d);
            }
        }
        let mut out = Vec::new();
        for d in std::mem::take(&mut self.sold[iu]) {
            self.busy[d] = true;
            out.push(Arrival {
                device: d,
                created: cal.at(day, rng.gen_range(10 * 60..21 * 60)),
                kind: WorkOrderType::Install,
                priority: Priority::Normal,
                channel: Channel::Sales,
                fault: "新机安装",
                want: Want::Window(i + rng.gen_range(1..3)),
                cancel: None,
            });
        }
        let until = if day == cal.today {
            cal.minute(cal.now)
        } else {
            24 * 60
        };
        let n_back = back.len() as i64;
        for (d, t) in back {
            if !self.busy[d] {
                self.busy[d] = true;
                let dev = &base.devices[d];
                let mut a = self.call(rng, cal, i, d, dev.category(), dev.tier, m, t);
                a.kind = WorkOrderType::RepairOnsite;
                a.fault = "维修后故障复发";
                out.push(a);
            }
        }
        for _ in 0..(self.quota[iu] - n_back).max(0) {
            let Some(d) = self.pick(rng, m, wd) else {
                break;
            };
            self.busy[d] = true;
            let dev = &base.devices[d];
            let t = cal.at(day, call_minute(rng, until));
            let a = self.call(rng, cal, i, d, dev.category(), dev.tier, m, t);
            out.push(a);
        }
        out.sort_by_key(|a| a.created);
        out
    }

    /// A device with a call today: store by its share, category by the season, a device that is
    /// free (in a base too small for the orders asked, one that has an order open already).
    fn pick(&self, rng: &mut StdRng, m: usize, wd: u32) -> Option<usize> {
        let shares: Vec<f64> = MIX.iter().map(|x| x.1).collect();
        let mut busy = None;
        for _ in 0..40 {
            let s = weighted(rng, &shares);
            let w: Vec<f64> = CATEGORIES
                .iter()
                .zip(MIX[s].2)
                .enumerate()
                .map(|(k, (c, x))| {
                    if self.pools[s][k].is_empty() {
                        0.0
                    } else {
                        x * season(*c, m, wd)
                    }
                })
                .collect();
            if w.iter().all(|x| *x == 0.0) {
                continue;
            }
            let pool = &self.pools[s][weighted(rng, &w)];
            let d = pool[rng.gen_range(0..pool.len())];
            if !self.busy[d] {
                return Some(d);
            }
            busy = Some(d);
        }
        busy
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        rng: &mut StdRng,
        cal: &Calendar,
        i: i64,
        device: usize,
        cat: Category,
        tier: Tier,
        m: usize,
        created: DateTime<Utc>,
    ) -> Arrival {
        use WorkOrderType::*;
        let cleaning = if (3..=5).contains(&m) { 25.0 } else { 8.0 };
        let kinds: &[(WorkOrderType, f64)] = match cat {
            Category::Refrigeration => &[
                (RepairOnsite, 68.0),
                (Maintenance, cleaning),
                (RepairPhone, 9.0),
                (Replacement, 4.0),
                (Inspection, 3.0),
            ],
            Category::Copier => &[
                (RepairOnsite, 52.0),
                (Maintenance, 28.0),
                (Inspection, 10.0),
                (RepairPhone, 10.0),
            ],
            Category::Printer => &[
                (RepairOnsite, 55.0),
                (RepairPhone, 25.0),
                (Maintenance, 12.0),
                (Replacement, 8.0),
            ],
            _ => &[
                (RepairOnsite, 74.0),
                (RepairPhone, 14.0),
                (Replacement, 6.0),
                (Maintenance, 6.0),
            ],
        };
        let w: Vec<f64> = kinds.iter().map(|k| k.1).collect();
        let kind = kinds[weighted(rng, &w)].0;
        let office = matches!(cat, Category::Copier | Category::Printer);
        let planned = matches!(kind, Maintenance | Inspection);
        // Urgent: what the hotline takes in the day; the evening's calls wait for the morning.
        let minute = cal.minute(created);
        let p_urgent = if planned || !(8 * 60..17 * 60 + 30).contains(&minute) {
            0.0
        } else {
            let base = match cat {
                Category::Refrigeration if (5..=7).contains(&m) => 0.28,
                Category::Copier => 0.2,
                _ => 0.08,
            };
            base + if tier == Tier::Vip { 0.1 } else { 0.0 }
        };
        let priority = if rng.gen_bool(p_urgent) {
            Priority::Urgent
        } else {
            Priority::Normal
        };
        let channel = if planned && office {
            Channel::Contract
        } else {
            match rng.gen_range(0..100) {
                0..=74 => Channel::Phone,
                75..=82 => Channel::WalkIn,
                _ => Channel::SelfService,
            }
        };
        let fault = match kind {
            Maintenance if cat == Category::Refrigeration => "空调清洗保养",
            Maintenance => "定期保养",
            Inspection => "巡检",
            Replacement => "整机更换",
            _ => {
                let f = fault_texts(cat);
                f[rng.gen_range(0..f.len())]
            }
        };
        let want = if priority == Priority::Urgent {
            Want::Urgent
        } else if planned {
            Want::Window(i + rng.gen_range(2..8))
        } else if rng.gen_bool(0.4) {
            Want::Asap
        } else {
            Want::Window(match rng.gen_range(0..100) {
                0..=14 if minute < 11 * 60 => i,
                0..=59 => i + 1,
                60..=84 => i + 2,
                _ => i + rng.gen_range(3..6),
            })
        };
        let cancel = (kind != RepairPhone && rng.gen_bool(0.03))
            .then(|| created + Duration::minutes(rng.gen_range(15..240)));
        Arrival {
            device,
            created,
            kind,
            priority,
            channel,
            fault,
            want,
            cancel,
        }
    }
}
