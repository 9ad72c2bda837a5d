//! The hand-dispatch baseline: whenever a technician is free, send them to the nearest job they
//! have the skill for and can still reach in its window and finish before the shift ends (an
//! urgent job before any other). Same input and output as [`crate::plan`].

use chrono::Duration;

use crate::{
    Job, Plan, Route, RoutingError, Stop, Technician, TravelModel, Unassigned, UnassignedReason,
};

pub fn plan(
    techs: &[Technician],
    jobs: &[Job],
    travel: &TravelModel,
) -> Result<Plan, RoutingError> {
    let mut points = Vec::new();
    for t in techs {
        points.push(t.start);
        points.push(t.end.unwrap_or(t.start));
    }
    let job_base = points.len();
    points.extend(jobs.iter().map(|j| j.location));
    let (dur, dist) = travel.matrix(&points)?;
    let n = points.len();
    let leg = |a: usize, b: usize| (dur[a * n + b], dist[a * n + b]);

    struct State {
        at: usize,
        time: chrono::DateTime<chrono::Utc>,
        done: bool,
        route: Route,
        break_taken: bool,
    }
    let mut st: Vec<State> = techs
        .iter()
        .enumerate()
        .map(|(i, t)| State {
            at: 2 * i,
            time: t.shift_start,
            done: false,
            break_taken: t.breaks.is_empty(),
            route: Route {
                technician_id: t.id.clone(),
                stops: vec![],
                travel_secs: 0,
                onsite_secs: 0,
                distance_m: 0,
                start: t.shift_start,
                end: t.shift_start,
            },
        })
        .collect();
    let mut served = vec![false; jobs.len()];
    // The technician who is free first.
    while let Some(ti) = (0..techs.len())
        .filter(|i| !st[*i].done)
        .min_by_key(|i| st[*i].time)
    {
        let t = &techs[ti];
        // Lunch: taken where they are once its window opens.
        if !st[ti].break_taken {
            if let Some(b) = t.breaks.first() {
                if st[ti].time >= b.earliest {
                    st[ti].time += Duration::seconds(b.duration_secs);
                    st[ti].break_taken = true;
                }
            }
        }
        let s = &st[ti];
        let home = 2 * ti + 1;
        let mut best: Option<(bool, i64, usize)> = None;
        for (ji, j) in jobs.iter().enumerate() {
            if served[ji] || j.skill.as_ref().is_some_and(|k| !t.skills.contains(k)) {
                continue;
            }
            let (d, _) = leg(s.at, job_base + ji);
            let arrive = s.time + Duration::seconds(d);
            let start = match j.window {
                Some((a, _)) if arrive < a => a,
                _ => arrive,
            };
            if j.window.is_some_and(|(_, b)| start > b) {
                continue;
            }
            let finish = start + Duration::seconds(j.service_secs);
            let (back, _) = leg(job_base + ji, home);
            if finish + Duration::seconds(back) > t.shift_end {
                continue;
            }
            // Urgent first, then nearest (by travel time, waiting included).
            let key = (!j.urgent, (start - s.time).num_seconds(), ji);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        let Some((_, _, ji)) = best else {
            // Nothing left this technician can do: go home.
            let s = &mut st[ti];
            let (d, m) = leg(s.at, home);
            s.route.travel_secs += d;
            s.route.distance_m += m;
            s.time += Duration::seconds(d);
            s.route.end = s.time;
            s.done = true;
            continue;
        };
        let j = &jobs[ji];
        let s = &mut st[ti];
        let (d, m) = leg(s.at, job_base + ji);
        let arrive = s.time + Duration::seconds(d);
        let start = match j.window {
            Some((a, _)) if arrive < a => a,
            _ => arrive,
        };
        s.route.travel_secs += d;
        s.route.distance_m += m;
        s.route.onsite_secs += j.service_secs;
        let departure = start + Duration::seconds(j.service_secs);
        s.route.stops.push(Stop {
            job_id: j.id.clone(),
            arrival: start,
            departure,
            travel_secs: d,
        });
        s.at = job_base + ji;
        s.time = departure;
        served[ji] = true;
    }
    let routes = st
        .into_iter()
        .map(|s| s.route)
        .filter(|r| !r.stops.is_empty())
        .collect();
    let unassigned = jobs
        .iter()
        .zip(&served)
        .filter(|(_, s)| !**s)
        .map(|(j, _)| Unassigned {
            job_id: j.id.clone(),
            reason: crate::precheck(techs, j).unwrap_or(UnassignedReason::NoTimeLeft),
        })
        .collect();
    Ok(Plan { routes, unassigned })
}

/// Hand dispatch as a dispatcher does it through the day: the calls are taken in the order they
/// came in (urgent ones as soon as they come), and each goes to the nearest technician with the
/// skill who is still free for it — nearest to where that technician will be after the jobs
/// already given — and is done after those jobs (the window and the shift end respected, lunch
/// taken once its window opens). A job no technician can fit stays unassigned. This is the
/// issue's "nearest free technician with the skill"; [`plan`] above is a stronger baseline
/// (every free technician takes the nearest job), reported beside it.
pub fn hand(
    techs: &[Technician],
    jobs: &[Job],
    travel: &TravelModel,
) -> Result<Plan, RoutingError> {
    let mut points = Vec::new();
    for t in techs {
        points.push(t.start);
        points.push(t.end.unwrap_or(t.start));
    }
    let job_base = points.len();
    points.extend(jobs.iter().map(|j| j.location));
    let (dur, dist) = travel.matrix(&points)?;
    let n = points.len();
    let leg = |a: usize, b: usize| (dur[a * n + b], dist[a * n + b]);

    struct State {
        at: usize,
        time: chrono::DateTime<chrono::Utc>,
        break_taken: bool,
        route: Route,
    }
    let mut st: Vec<State> = techs
        .iter()
        .enumerate()
        .map(|(i, t)| State {
            at: 2 * i,
            time: t.shift_start,
            break_taken: t.breaks.is_empty(),
            route: Route {
                technician_id: t.id.clone(),
                stops: vec![],
                travel_secs: 0,
                onsite_secs: 0,
                distance_m: 0,
                start: t.shift_start,
                end: t.shift_start,
            },
        })
        .collect();
    // When the technician would start job `ji` after the jobs already given: (travel, start).
    let fit =
        |s: &State, t: &Technician, ji: usize| -> Option<(i64, chrono::DateTime<chrono::Utc>)> {
            let j = &jobs[ji];
            let mut time = s.time;
            if !s.break_taken {
                if let Some(b) = t.breaks.first() {
                    if time >= b.earliest {
                        time += Duration::seconds(b.duration_secs);
                    }
                }
            }
            let (d, _) = leg(s.at, job_base + ji);
            let arrive = time + Duration::seconds(d);
            let start = match j.window {
                Some((a, _)) if arrive < a => a,
                _ => arrive,
            };
            if j.window.is_some_and(|(_, b)| start > b) {
                return None;
            }
            let finish = start + Duration::seconds(j.service_secs);
            let home = techs.iter().position(|x| x.id == t.id).map(|i| 2 * i + 1)?;
            let (back, _) = leg(job_base + ji, home);
            (finish + Duration::seconds(back) <= t.shift_end).then_some((d, start))
        };
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    // Urgent calls are handled as they come; among the rest, the order they came in.
    order.sort_by_key(|&i| (!jobs[i].urgent, i));
    let mut served = vec![false; jobs.len()];
    for ji in order {
        let j = &jobs[ji];
        let best = techs
            .iter()
            .enumerate()
            .filter(|(_, t)| j.skill.as_ref().is_none_or(|k| t.skills.contains(k)))
            .filter_map(|(ti, t)| fit(&st[ti], t, ji).map(|(d, _)| (d, ti)))
            .min();
        let Some((_, ti)) = best else { continue };
        let t = &techs[ti];
        let (_, start) = fit(&st[ti], t, ji).ok_or_else(|| RoutingError::Input("fit".into()))?;
        let s = &mut st[ti];
        if !s.break_taken {
            if let Some(b) = t.breaks.first() {
                if s.time >= b.earliest {
                    s.time += Duration::seconds(b.duration_secs);
                    s.break_taken = true;
                }
            }
        }
        let (d, m) = leg(s.at, job_base + ji);
        s.route.travel_secs += d;
        s.route.distance_m += m;
        s.route.onsite_secs += j.service_secs;
        let departure = start + Duration::seconds(j.service_secs);
        s.route.stops.push(Stop {
            job_id: j.id.clone(),
            arrival: start,
            departure,
            travel_secs: d,
        });
        s.at = job_base + ji;
        s.time = departure;
        served[ji] = true;
    }
    let routes = st
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            let (d, m) = leg(s.at, 2 * i + 1);
            if !s.route.stops.is_empty() {
                s.route.travel_secs += d;
                s.route.distance_m += m;
                s.route.end = s.time + Duration::seconds(d);
            }
            s.route
        })
        .filter(|r| !r.stops.is_empty())
        .collect();
    let unassigned = jobs
        .iter()
        .zip(&served)
        .filter(|(_, s)| !**s)
        .map(|(j, _)| Unassigned {
            job_id: j.id.clone(),
            reason: crate::precheck(techs, j).unwrap_or(UnassignedReason::NoTimeLeft),
        })
        .collect();
    Ok(Plan { routes, unassigned })
}
