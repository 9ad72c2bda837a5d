//! Inserting one new job into a committed day with the least disruption: the stops already
//! planned keep their technicians and order; the new job goes where it adds the least cost
//! (driving, as the day planner reckons it) while every window, shift and break still holds.
//!
//! It works on the day planner's model ([`crate::hgs::day`]): the same skills, pins, stores and
//! costs, and each candidate route is checked on its time-window segments with the
//! technician's breaks placed where they fit best.

use std::collections::HashMap;

use crate::hgs::day::{build, route};
use crate::hgs::solution::{place_breaks, route_cost};
use crate::{precheck, Job, Plan, RoutingError, Technician, TravelModel, Unassigned};

/// Adds `new` to `plan` (which covers `jobs`), keeping every planned stop's technician and
/// order.
pub fn insert(
    techs: &[Technician],
    jobs: &[Job],
    plan: &Plan,
    new: &Job,
    travel: &TravelModel,
) -> Result<Plan, RoutingError> {
    let mut out = plan.clone();
    out.unassigned.retain(|u| u.job_id != new.id);
    let leave_out = |mut out: Plan| {
        out.unassigned.push(Unassigned {
            job_id: new.id.clone(),
            reason: precheck(techs, new).unwrap_or(crate::UnassignedReason::NoTimeLeft),
        });
        Ok(out)
    };
    if techs.is_empty() {
        return leave_out(out);
    }
    let mut all = jobs.to_vec();
    all.retain(|j| j.id != new.id);
    all.push(new.clone());
    let day = build(techs, &all, travel)?;
    let m = &day.model;
    let index: HashMap<&str, usize> = all
        .iter()
        .enumerate()
        .map(|(k, j)| (j.id.as_str(), k))
        .collect();
    let new_place = (m.depots + all.len() - 1) as u32;
    // (added cost, technician, visits with breaks)
    let mut best: Option<(i64, usize, Vec<u32>)> = None;
    for (v, t) in techs.iter().enumerate() {
        if !m.may_serve(v, new_place as usize) {
            continue;
        }
        let order: Vec<u32> = plan
            .routes
            .iter()
            .find(|r| r.technician_id == t.id)
            .map(|r| {
                r.stops
                    .iter()
                    .filter_map(|s| index.get(s.job_id.as_str()))
                    .map(|&j| (m.depots + j) as u32)
                    .collect()
            })
            .unwrap_or_default();
        let breaks: Vec<u32> = day
            .break_of
            .iter()
            .enumerate()
            .filter(|(_, (w, _))| *w == v)
            .map(|(k, _)| (m.depots + all.len() + k) as u32)
            .collect();
        // A technician with nothing to do does not drive at all.
        let before = if order.is_empty() {
            0
        } else {
            route_cost(m, v, &order)
        };
        for pos in 0..=order.len() {
            let mut o = order.clone();
            o.insert(pos, new_place);
            let added = route_cost(m, v, &o) - before;
            if best.as_ref().is_some_and(|b| b.0 <= added) {
                continue;
            }
            if let Some(visits) = place_breaks(m, v, &o, &breaks) {
                best = Some((added, v, visits));
            }
        }
    }
    let Some((_, v, visits)) = best else {
        return leave_out(out);
    };
    let r = route(&day, techs, &all, v, &visits);
    match out
        .routes
        .iter_mut()
        .find(|x| x.technician_id == r.technician_id)
    {
        Some(x) => *x = r,
        None => {
            out.routes.push(r);
            out.routes
                .sort_by(|a, b| a.technician_id.cmp(&b.technician_id));
        }
    }
    Ok(out)
}
