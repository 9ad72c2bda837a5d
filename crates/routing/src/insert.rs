//! Inserting one new job into a committed day with the least disruption: the stops already
//! planned keep their order; the new job goes where it adds the least travel while every window
//! and shift end still holds.

use chrono::{DateTime, Duration, Utc};

use crate::{Job, Plan, RoutingError, Stop, Technician, TravelModel, Unassigned, UnassignedReason};

/// Times of a route with `order` (job indices) for technician `t`; `None` if infeasible.
fn schedule(
    t: &Technician,
    order: &[usize],
    jobs: &[&Job],
    leg: &dyn Fn(Option<usize>, Option<usize>) -> i64,
    from: DateTime<Utc>,
) -> Option<(Vec<Stop>, i64)> {
    let mut time = from;
    let mut at: Option<usize> = None;
    let mut stops = Vec::new();
    let mut travel = 0;
    for &j in order {
        let d = leg(at, Some(j));
        travel += d;
        let arrive = time + Duration::seconds(d);
        let start = match jobs[j].window {
            Some((a, _)) if arrive < a => a,
            _ => arrive,
        };
        if jobs[j].window.is_some_and(|(_, b)| start > b) {
            return None;
        }
        let dep = start + Duration::seconds(jobs[j].service_secs);
        stops.push(Stop {
            job_id: jobs[j].id.clone(),
            arrival: start,
            departure: dep,
            travel_secs: d,
        });
        time = dep;
        at = Some(j);
    }
    let back = leg(at, None);
    if time + Duration::seconds(back) > t.shift_end {
        return None;
    }
    Some((stops, travel + back))
}

/// Adds `new` to `plan` (which covers `jobs`), keeping every planned stop's order.
pub fn insert(
    techs: &[Technician],
    jobs: &[Job],
    plan: &Plan,
    new: &Job,
    travel: &TravelModel,
) -> Result<Plan, RoutingError> {
    let mut all: Vec<&Job> = jobs.iter().collect();
    all.push(new);
    let new_idx = all.len() - 1;
    struct Candidate {
        added: i64,
        tech: usize,
        stops: Vec<Stop>,
        travel_secs: i64,
    }
    let mut best: Option<Candidate> = None;
    for (ti, t) in techs.iter().enumerate() {
        if new.skill.as_ref().is_some_and(|s| !t.skills.contains(s)) {
            continue;
        }
        if new.pinned_to.as_ref().is_some_and(|p| p != &t.id) {
            continue;
        }
        let route = plan.routes.iter().find(|r| r.technician_id == t.id);
        let order: Vec<usize> = route
            .map(|r| {
                r.stops
                    .iter()
                    .filter_map(|s| all.iter().position(|j| j.id == s.job_id))
                    .collect()
            })
            .unwrap_or_default();
        // Travel between this technician's points and the jobs.
        let mut points = vec![t.start, t.end.unwrap_or(t.start)];
        points.extend(all.iter().map(|j| j.location));
        let (dur, _) = travel.matrix(&points)?;
        let n = points.len();
        let leg = |a: Option<usize>, b: Option<usize>| {
            let ia = a.map(|j| j + 2).unwrap_or(0);
            let ib = b.map(|j| j + 2).unwrap_or(1);
            dur[ia * n + ib]
        };
        let before = schedule(t, &order, &all, &leg, t.shift_start)
            .map(|s| s.1)
            .unwrap_or(0);
        for pos in 0..=order.len() {
            let mut o = order.clone();
            o.insert(pos, new_idx);
            if let Some((stops, travel_secs)) = schedule(t, &o, &all, &leg, t.shift_start) {
                let added = travel_secs - before;
                if best.as_ref().is_none_or(|b| added < b.added) {
                    best = Some(Candidate {
                        added,
                        tech: ti,
                        stops,
                        travel_secs,
                    });
                }
            }
        }
    }
    let mut out = plan.clone();
    match best {
        Some(Candidate {
            tech: ti,
            stops,
            travel_secs,
            ..
        }) => {
            let t = &techs[ti];
            let onsite = stops
                .iter()
                .map(|s| (s.departure - s.arrival).num_seconds())
                .sum();
            let end = stops.last().map(|s| s.departure).unwrap_or(t.shift_start);
            match out.routes.iter_mut().find(|r| r.technician_id == t.id) {
                Some(r) => {
                    r.stops = stops;
                    r.travel_secs = travel_secs;
                    r.onsite_secs = onsite;
                    r.end = end;
                }
                None => out.routes.push(crate::Route {
                    technician_id: t.id.clone(),
                    start: stops
                        .first()
                        .map(|s| s.arrival - Duration::seconds(s.travel_secs))
                        .unwrap_or(t.shift_start),
                    stops,
                    travel_secs,
                    onsite_secs: onsite,
                    distance_m: 0,
                    end,
                }),
            }
            out.unassigned.retain(|u| u.job_id != new.id);
        }
        None => {
            let reason = crate::precheck(techs, new).unwrap_or(UnassignedReason::NoTimeLeft);
            out.unassigned.retain(|u| u.job_id != new.id);
            out.unassigned.push(Unassigned {
                job_id: new.id.clone(),
                reason,
            });
        }
    }
    Ok(out)
}
