//! Inserting one new job into a committed day with the least disruption.
//!
//! The new job goes where it adds the least cost (driving, as the day planner reckons it) while
//! every window, shift and break still holds, and every planned stop keeps its technician and
//! order. Only when it fits nowhere so does the search look one step further: one planned stop
//! (not pinned to its technician) moves to another technician who has room for it, and the new
//! job takes its place in the route it left; of all such moves, the one adding the least cost.
//! The stops not moved keep their technicians and order either way.
//!
//! It works on the day planner's model ([`crate::hgs::day`]): the same skills, pins, stores and
//! costs, and each candidate route is checked on its time-window segments with the
//! technician's breaks placed where they fit best.

use std::collections::HashMap;

use crate::hgs::day::{build, route, Day};
use crate::hgs::solution::{place_breaks, route_cost};
use crate::{precheck, Job, Plan, RoutingError, Technician, TravelModel, Unassigned};

/// What an insertion did to the day.
#[derive(Debug, Clone)]
pub struct Insertion {
    /// The day with the new job (or with it among the left-out jobs, when it fits nowhere).
    pub plan: Plan,
    /// The planned stop that moved to make room, when one had to.
    pub moved: Option<Moved>,
}

/// A planned stop that moved to another technician to make room for the new job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub job_id: String,
    pub from: String,
    pub to: String,
}

/// Adds `new` to `plan` (which covers `jobs`) with the least disruption (see the module).
pub fn insert(
    techs: &[Technician],
    jobs: &[Job],
    plan: &Plan,
    new: &Job,
    travel: &TravelModel,
) -> Result<Insertion, RoutingError> {
    let mut out = plan.clone();
    out.unassigned.retain(|u| u.job_id != new.id);
    let leave_out = |mut out: Plan| {
        out.unassigned.push(Unassigned {
            job_id: new.id.clone(),
            reason: precheck(techs, new).unwrap_or(crate::UnassignedReason::NoTimeLeft),
        });
        Ok(Insertion {
            plan: out,
            moved: None,
        })
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
    let orders: Vec<Vec<u32>> = techs
        .iter()
        .map(|t| {
            plan.routes
                .iter()
                .find(|r| r.technician_id == t.id)
                .map(|r| {
                    r.stops
                        .iter()
                        .filter_map(|s| index.get(s.job_id.as_str()))
                        .map(|&j| (m.depots + j) as u32)
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let days = Routes::new(&day, &all, orders);

    // Where it fits as the day stands.
    let direct = (0..techs.len())
        .filter(|&v| m.may_serve(v, new_place as usize))
        .filter_map(|v| {
            days.best_into(v, &days.orders[v], new_place, None)
                .map(|(c, visits)| (c, v, visits))
        })
        .min_by_key(|b| b.0);
    if let Some((_, v, visits)) = direct {
        days.apply(&mut out, techs, v, &visits);
        return Ok(Insertion {
            plan: out,
            moved: None,
        });
    }

    // One planned stop makes room. The stop's cheapest place in another route depends only on
    // the stop and that route: worked out once each, when first needed.
    let mut elsewhere: HashMap<(u32, usize), Option<Placed>> = HashMap::new();
    // (added cost, technician, their visits, the stop, where it goes, their visits)
    type Best = (i64, usize, Vec<u32>, u32, usize, Vec<u32>);
    let mut best: Option<Best> = None;
    for v in (0..techs.len()).filter(|&v| m.may_serve(v, new_place as usize)) {
        for i in 0..days.orders[v].len() {
            let stop = days.orders[v][i];
            let mut rest = days.orders[v].clone();
            rest.remove(i);
            let bound = best.as_ref().map(|b| b.0);
            let Some((room, visits)) = days.best_into(v, &rest, new_place, bound) else {
                continue;
            };
            for w in (0..techs.len()).filter(|&w| w != v && m.may_serve(w, stop as usize)) {
                let there = elsewhere
                    .entry((stop, w))
                    .or_insert_with(|| days.best_into(w, &days.orders[w], stop, None));
                let Some((cost, visits_w)) = there else {
                    continue;
                };
                let total = room + *cost;
                if best.as_ref().is_none_or(|b| total < b.0) {
                    best = Some((total, v, visits.clone(), stop, w, visits_w.clone()));
                }
            }
        }
    }
    let Some((_, v, visits, stop, w, visits_w)) = best else {
        return leave_out(out);
    };
    days.apply(&mut out, techs, v, &visits);
    days.apply(&mut out, techs, w, &visits_w);
    let job = day.job_of[stop as usize - m.depots].expect("a planned stop is a job");
    Ok(Insertion {
        plan: out,
        moved: Some(Moved {
            job_id: all[job].id.clone(),
            from: techs[v].id.clone(),
            to: techs[w].id.clone(),
        }),
    })
}

/// A place put into a route: the cost it adds, and the route's visits with the breaks.
type Placed = (i64, Vec<u32>);

/// The committed day's routes on the planner's model.
struct Routes<'a> {
    day: &'a Day,
    jobs: &'a [Job],
    /// Each technician's stops (places, without breaks).
    orders: Vec<Vec<u32>>,
    /// Each technician's breaks.
    breaks: Vec<Vec<u32>>,
    /// Each route's cost as planned (nothing for a technician with nothing to do: they do not
    /// drive at all).
    costs: Vec<i64>,
}

impl<'a> Routes<'a> {
    fn new(day: &'a Day, jobs: &'a [Job], orders: Vec<Vec<u32>>) -> Self {
        let m = &day.model;
        let breaks = (0..orders.len())
            .map(|v| {
                day.break_of
                    .iter()
                    .enumerate()
                    .filter(|(_, (w, _))| *w == v)
                    .map(|(k, _)| (m.depots + jobs.len() + k) as u32)
                    .collect()
            })
            .collect();
        let costs = orders
            .iter()
            .enumerate()
            .map(|(v, o)| if o.is_empty() { 0 } else { route_cost(m, v, o) })
            .collect();
        Routes {
            day,
            jobs,
            orders,
            breaks,
            costs,
        }
    }

    /// The cheapest way to serve `order` (some of technician `v`'s stops) and `place` with `v`:
    /// the cost added to `v`'s route as planned, and the visits with the breaks. Costs of
    /// `bound` or more are not looked for.
    fn best_into(&self, v: usize, order: &[u32], place: u32, bound: Option<i64>) -> Option<Placed> {
        let m = &self.day.model;
        let mut best: Option<Placed> = None;
        for pos in 0..=order.len() {
            let mut o = order.to_vec();
            o.insert(pos, place);
            let added = route_cost(m, v, &o) - self.costs[v];
            let limit = best.as_ref().map(|b| b.0).or(bound);
            if limit.is_some_and(|l| l <= added) {
                continue;
            }
            if let Some(visits) = place_breaks(m, v, &o, &self.breaks[v]) {
                best = Some((added, visits));
            }
        }
        best
    }

    /// Puts technician `v`'s new visits into `plan`.
    fn apply(&self, plan: &mut Plan, techs: &[Technician], v: usize, visits: &[u32]) {
        let r = route(self.day, techs, self.jobs, v, visits);
        let empty = r.stops.is_empty();
        match plan
            .routes
            .iter_mut()
            .position(|x| x.technician_id == r.technician_id)
        {
            Some(k) if empty => {
                plan.routes.remove(k);
            }
            Some(k) => plan.routes[k] = r,
            None if empty => {}
            None => {
                plan.routes.push(r);
                plan.routes
                    .sort_by(|a, b| a.technician_id.cmp(&b.technician_id));
            }
        }
    }
}
