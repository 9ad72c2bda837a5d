//! The technicians' day as the search's model: each technician a vehicle (own start and end,
//! shift, skills), each job a client served only by the technicians with its skill (and only
//! by its technician when pinned), each break a place-less visit of its technician's, every
//! job optional at a prize larger than any detour a day can hold, so a job is left out only
//! when no technician can fit it. The cost is the product's: metres driven plus a hundredth
//! of the seconds (both scaled by 100 to stay in integers).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::model::{Client, Model, Vehicle};
use super::{solve, Params, Penalties};
use crate::{
    precheck, Job, Plan, Route, RoutingError, SolveOptions, Stop, Technician, TravelModel,
    Unassigned, UnassignedReason,
};

/// An urgent job is worth this many ordinary ones.
const URGENT_WEIGHT: i64 = 20;

/// Of the time for several stores, the share their own plans get before they are searched
/// together.
const ALONE_SHARE: f64 = 0.8;

/// The share of the genetic search's budget left to the iterated search from its best plan.
/// The genetic search picks which jobs a day serves; the iterated one then cuts the driving.
/// On 20 demo days (`bench dispatch`), against the genetic search alone: with 0.3, as many jobs
/// (1,726 against 1,723–1,730), 5 % less driving, as many missed deadlines; with 0.5, 1,722
/// jobs, 7 % less driving, 5 % more missed deadlines (docs/BENCHMARKS.md).
const POLISH: f64 = 0.3;

/// A job served by another store's technician costs as much as this much driving: its store's
/// preference. On three light demo days (200 jobs for 36 technicians, every job served), planning
/// the stores together drove 3.8 % less than each alone with no preference (13 % of the jobs
/// crossing), 1.0 % less at 5 minutes (1.3 % crossing), and the same at 15 minutes (none
/// crossing; `bench chain-dispatch`, docs/BENCHMARKS.md).
const CROSSING_SECS: i64 = 5 * 60;

pub(crate) struct Day {
    pub(crate) model: Model,
    /// What leaving an ordinary job out costs.
    prize: i64,
    origin: DateTime<Utc>,
    /// Metres between places (the model's cost mixes them with seconds).
    metres: Vec<i64>,
    /// The job of each client, `None` for a break.
    pub(crate) job_of: Vec<Option<usize>>,
    /// Each break's technician and its number among theirs, after the jobs.
    pub(crate) break_of: Vec<(usize, usize)>,
}

pub(crate) fn build(
    techs: &[Technician],
    jobs: &[Job],
    travel: &TravelModel,
) -> Result<Day, RoutingError> {
    let origin = techs
        .iter()
        .map(|t| t.shift_start)
        .min()
        .ok_or_else(|| RoutingError::Input("no technician".into()))?;
    let secs = |t: DateTime<Utc>| (t - origin).num_seconds();
    // Depots: the technicians' distinct starts and ends.
    let mut depots: Vec<crate::Point> = vec![];
    let mut depot_of = |p: crate::Point| match depots.iter().position(|q| *q == p) {
        Some(i) => i,
        None => {
            depots.push(p);
            depots.len() - 1
        }
    };
    let ends: Vec<(usize, usize)> = techs
        .iter()
        .map(|t| (depot_of(t.start), depot_of(t.end.unwrap_or(t.start))))
        .collect();
    // A break that cannot be taken within the shift is left out (as the shift allows no
    // work around it anyway).
    let breaks: Vec<(usize, usize, &crate::Break)> = techs
        .iter()
        .enumerate()
        .flat_map(|(v, t)| t.breaks.iter().enumerate().map(move |(k, b)| (v, k, b)))
        .filter(|(v, _, b)| {
            let t = &techs[*v];
            b.earliest.max(t.shift_start) + chrono::Duration::seconds(b.duration_secs)
                <= t.shift_end
                && b.latest >= t.shift_start
        })
        .collect();
    let mut points = depots.clone();
    points.extend(jobs.iter().map(|j| j.location));
    // A break's place: the first depot's (its rows are never read).
    points.extend(breaks.iter().map(|_| depots[0]));
    let (durations, distances) = travel.matrix(&points)?;
    let cost: Vec<i64> = distances
        .iter()
        .zip(&durations)
        .map(|(d, t)| 100 * d + t)
        .collect();
    // Stores, when several are planned together ("" for a job or technician of none: such a
    // job costs the crossing with every technician, so it has no preference).
    let mut stores: Vec<&str> = vec![];
    for s in techs
        .iter()
        .map(|t| t.store.as_deref().unwrap_or(""))
        .chain(jobs.iter().map(|j| j.store.as_deref().unwrap_or("")))
    {
        if !stores.contains(&s) {
            stores.push(s);
        }
    }
    if stores.len() > super::model::GROUPS as usize {
        return Err(RoutingError::Input(format!(
            "{} stores planned together, at most {}",
            stores.len(),
            super::model::GROUPS
        )));
    }
    let group = |s: &Option<String>| {
        let key = s.as_deref().unwrap_or("");
        stores.iter().position(|x| *x == key).unwrap_or(0) as u8
    };
    // The cost of driving CROSSING_SECS, at the matrix's mean cost per second of travel.
    let (sum_cost, sum_time) = (cost.iter().sum::<i64>(), durations.iter().sum::<i64>());
    let foreign_cost = if stores.len() > 1 && sum_time > 0 {
        (sum_cost as f64 / sum_time as f64 * CROSSING_SECS as f64) as i64
    } else {
        0
    };
    // More than any detour to a job can cost (there and back over the longest arc, and to another store), so
    // serving a job always pays when it fits.
    let prize = 2 * cost.iter().copied().max().unwrap_or(0) + foreign_cost + 1;
    let nv = techs.len();
    let mut clients = Vec::with_capacity(jobs.len() + breaks.len());
    let mut allowed = Vec::with_capacity((jobs.len() + breaks.len()) * nv);
    for j in jobs {
        let (early, late) = match j.window {
            Some((a, b)) => (secs(a), secs(b)),
            None => (i64::MIN / 4, i64::MAX / 4),
        };
        clients.push(Client {
            service: j.service_secs,
            early,
            late,
            demand: 0,
            required: false,
            prize: if j.urgent {
                prize * URGENT_WEIGHT
            } else {
                prize
            },
            placeless: false,
            group: group(&j.store),
        });
        if let Some(p) = &j.pinned_to {
            if !techs.iter().any(|t| &t.id == p) {
                return Err(RoutingError::Input(format!(
                    "job {} is pinned to an unknown technician",
                    j.id
                )));
            }
        }
        for t in techs {
            allowed.push(
                j.skill.as_ref().is_none_or(|s| t.skills.contains(s))
                    && j.pinned_to.as_ref().is_none_or(|p| p == &t.id),
            );
        }
    }
    for (v, _, b) in &breaks {
        clients.push(Client {
            service: b.duration_secs,
            early: secs(b.earliest),
            late: secs(b.latest),
            demand: 0,
            required: true,
            prize: 0,
            placeless: true,
            group: 0,
        });
        allowed.extend((0..nv).map(|w| w == *v));
    }
    let vehicles = techs
        .iter()
        .zip(&ends)
        .map(|(t, &(start, end))| Vehicle {
            start,
            end,
            early: secs(t.shift_start),
            late: secs(t.shift_end),
            capacity: 0,
            fixed_cost: 0,
            group: group(&t.store),
        })
        .collect();
    let model = Model {
        depots: depots.len(),
        clients,
        vehicles,
        cost,
        time: durations,
        coords: Some(points.iter().map(|p| (p.lng, p.lat)).collect()),
        allowed,
        foreign_cost,
    };
    let mut job_of: Vec<Option<usize>> = (0..jobs.len()).map(Some).collect();
    job_of.extend(breaks.iter().map(|_| None));
    Ok(Day {
        model,
        prize,
        origin,
        metres: distances,
        job_of,
        break_of: breaks.iter().map(|(v, k, _)| (*v, *k)).collect(),
    })
}

/// Drives from `from` to `to` and takes the breaks pending there; returns the drive's time.
fn arrive(m: &Model, t: &mut i64, from: usize, to: usize, pending: &mut Vec<&Client>) -> i64 {
    let leg = m.time(from, to);
    *t += leg;
    for b in pending.drain(..) {
        *t = (*t).max(b.early) + b.service;
    }
    leg
}

/// Plans the day with the hybrid genetic search.
pub fn plan(
    techs: &[Technician],
    jobs: &[Job],
    travel: &TravelModel,
    opts: &SolveOptions,
) -> Result<Plan, RoutingError> {
    let day = build(techs, jobs, travel)?;
    let seed = if opts.repeatable {
        1
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    };
    let seconds = opts.max_seconds.unwrap_or(5) as f64;
    let iterations = if opts.repeatable {
        Some(opts.max_generations.unwrap_or(3000))
    } else {
        opts.max_generations
    };
    let own = opts.search.own().unwrap_or_default();
    let params = |share: f64| Params {
        seed,
        // Ten minutes late cost as much as a job left out: the search stays near feasible
        // plans, which are the only ones a dispatcher can use.
        initial_penalties: Some(Penalties {
            load: 1.0,
            time_warp: day.prize as f64 / 600.0,
        }),
        // A second late may cost as much as a job left out.
        max_penalty: (day.prize as f64).max(100_000.0),
        // A repeatable run stops after its iterations, the time being only a safety cap: the
        // same day gives the same plan as long as they finish within it.
        time_limit: Some(Duration::from_secs_f64(seconds * share)),
        max_iterations: iterations.map(|k| ((k as f64 * share) as usize).max(1)),
        polish: POLISH,
        ..own.clone()
    };
    // Several stores: each store's day is planned alone first (four fifths of the time,
    // shared out), and the search over all of them starts from those plans, so it is never
    // worse than planning each store alone in that time. Crossing rarely pays (an order costs
    // another store's technician five minutes' driving), so the stores' own plans get most
    // of the time: with half, the plans of all stores at once drove 3 % more than each store's
    // alone on the demo's chain (docs/BENCHMARKS.md).
    let stores: Vec<&str> = {
        let mut v: Vec<&str> = techs.iter().filter_map(|t| t.store.as_deref()).collect();
        v.sort();
        v.dedup();
        v
    };
    let mut start = vec![vec![]; techs.len()];
    let whole_share = if stores.len() > 1 {
        let share = ALONE_SHARE / stores.len() as f64;
        for store in &stores {
            let mine: Vec<usize> = (0..techs.len())
                .filter(|&v| techs[v].store.as_deref() == Some(*store))
                .collect();
            let sub_techs: Vec<Technician> = mine.iter().map(|&v| techs[v].clone()).collect();
            // The store's jobs, but those pinned to another store's technician.
            let theirs: Vec<usize> = (0..jobs.len())
                .filter(|&j| {
                    jobs[j].store.as_deref() == Some(*store)
                        && jobs[j]
                            .pinned_to
                            .as_ref()
                            .is_none_or(|p| sub_techs.iter().any(|t| &t.id == p))
                })
                .collect();
            if theirs.is_empty() {
                continue;
            }
            let sub_jobs: Vec<Job> = theirs.iter().map(|&j| jobs[j].clone()).collect();
            let sub = build(&sub_techs, &sub_jobs, travel)?;
            let out = solve(&sub.model, &params(share)).map_err(RoutingError::Solver)?;
            let n_sub_jobs = sub_jobs.len();
            for (k, visits) in out.best.routes.iter().enumerate() {
                start[mine[k]] = visits
                    .iter()
                    .filter_map(|&p| {
                        let c = p as usize - sub.model.depots;
                        let full = match sub.job_of[c] {
                            Some(j) => theirs[j],
                            None => {
                                let (v, b) = sub.break_of[c - n_sub_jobs];
                                jobs.len() + day.break_of.iter().position(|x| *x == (mine[v], b))?
                            }
                        };
                        Some((day.model.depots + full) as u32)
                    })
                    .collect();
            }
        }
        1.0 - ALONE_SHARE
    } else {
        1.0
    };
    let params = Params {
        start_from: if stores.len() > 1 {
            vec![start]
        } else {
            vec![]
        },
        ..params(whole_share)
    };
    let out = solve(&day.model, &params).map_err(RoutingError::Solver)?;
    if !out.best.is_feasible() {
        return Err(RoutingError::Solver(
            "no plan keeps every shift, window and break".into(),
        ));
    }
    let m = &day.model;
    let mut routes = vec![];
    let mut served = vec![false; jobs.len()];
    for (v, visits) in out.best.routes.iter().enumerate() {
        if !visits
            .iter()
            .any(|&p| day.job_of[p as usize - m.depots].is_some())
        {
            continue;
        }
        for &p in visits {
            if let Some(j) = day.job_of[p as usize - m.depots] {
                served[j] = true;
            }
        }
        routes.push(route(&day, techs, jobs, v, visits));
    }
    routes.sort_by(|a, b| a.technician_id.cmp(&b.technician_id));
    let unassigned = jobs
        .iter()
        .zip(&served)
        .filter(|(_, s)| !**s)
        .map(|(j, _)| Unassigned {
            job_id: j.id.clone(),
            reason: precheck(techs, j).unwrap_or(UnassignedReason::NoTimeLeft),
        })
        .collect();
    Ok(Plan { routes, unassigned })
}

/// Technician `v`'s route over `visits` (places of the day's model, breaks included), each
/// stop at the earliest time the route allows.
pub(crate) fn route(
    day: &Day,
    techs: &[Technician],
    jobs: &[Job],
    v: usize,
    visits: &[u32],
) -> Route {
    let m = &day.model;
    let at = |s: i64| day.origin + chrono::Duration::seconds(s);
    let whole = super::solution::route_segment(m, v, visits);
    let veh = &m.vehicles[v];
    let places = m.places();
    let mut t = whole.timing.early.max(veh.early);
    let start = t;
    let mut here = veh.start;
    let (mut travel_secs, mut onsite_secs, mut metres) = (0, 0, 0);
    let mut stops = vec![];
    // Breaks are taken on arriving at the next place, before its service (as the search
    // reckons them).
    let mut pending: Vec<&Client> = vec![];
    for &p in visits {
        let c = m.client(p as usize);
        if c.placeless {
            pending.push(c);
            continue;
        }
        let leg = arrive(m, &mut t, here, p as usize, &mut pending);
        let begin = t.max(c.early);
        t = begin + c.service;
        let j = day.job_of[p as usize - m.depots].expect("a place is a job");
        travel_secs += leg;
        metres += day.metres[here * places + p as usize];
        onsite_secs += c.service;
        stops.push(Stop {
            job_id: jobs[j].id.clone(),
            arrival: at(begin),
            departure: at(t),
            travel_secs: leg,
        });
        here = p as usize;
    }
    travel_secs += arrive(m, &mut t, here, veh.end, &mut pending);
    metres += day.metres[here * places + veh.end];
    Route {
        technician_id: techs[v].id.clone(),
        stops,
        travel_secs,
        onsite_secs,
        distance_m: metres,
        start: at(start),
        end: at(t),
    }
}
