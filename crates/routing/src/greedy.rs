//! Baselines for the route planner, with the same input and output as [`crate::plan`]:
//!
//! - [`hand`]: hand dispatch as the issue words it, "nearest free technician with the skill": the
//!   calls are taken in the order they came in (urgent ones as soon as they come), and each goes to
//!   the technician with the skill nearest to where they will be after the jobs already given and
//!   who can still fit it; jobs are done in the order given.
//! - [`plan`]: a stronger baseline than a person: whenever a technician is free they take the
//!   nearest job they have the skill for and can still reach in its window and finish before the
//!   shift ends (an urgent job before any other).
//!
//! Both respect windows and shift ends, take lunch once its window opens, and return home.

use chrono::{DateTime, Duration, Utc};

use crate::{
    Job, Plan, Route, RoutingError, Stop, Technician, TravelModel, Unassigned, UnassignedReason,
};

/// Travel between technicians' homes (2 points each: start, end) and jobs.
struct Legs {
    dur: Vec<i64>,
    dist: Vec<i64>,
    n: usize,
    job_base: usize,
}

impl Legs {
    fn new(techs: &[Technician], jobs: &[Job], travel: &TravelModel) -> Result<Legs, RoutingError> {
        let mut points = Vec::new();
        for t in techs {
            points.push(t.start);
            points.push(t.end.unwrap_or(t.start));
        }
        let job_base = points.len();
        points.extend(jobs.iter().map(|j| j.location));
        let (dur, dist) = travel.matrix(&points)?;
        Ok(Legs {
            dur,
            dist,
            n: points.len(),
            job_base,
        })
    }

    /// (seconds, metres) from point `a` to point `b`.
    fn leg(&self, a: usize, b: usize) -> (i64, i64) {
        (self.dur[a * self.n + b], self.dist[a * self.n + b])
    }

    fn job(&self, ji: usize) -> usize {
        self.job_base + ji
    }
}

/// Where a technician is in the simulated day.
struct State {
    /// Point index (home or a job).
    at: usize,
    /// Index of the technician's end point.
    home: usize,
    time: DateTime<Utc>,
    break_taken: bool,
    done: bool,
    route: Route,
}

impl State {
    fn new(i: usize, t: &Technician) -> State {
        State {
            at: 2 * i,
            home: 2 * i + 1,
            time: t.shift_start,
            break_taken: t.breaks.is_empty(),
            done: false,
            route: Route {
                technician_id: t.id.clone(),
                stops: vec![],
                travel_secs: 0,
                onsite_secs: 0,
                distance_m: 0,
                start: t.shift_start,
                end: t.shift_start,
            },
        }
    }

    /// When lunch would end if taken now (its window has opened), else now.
    fn after_lunch(&self, t: &Technician) -> DateTime<Utc> {
        match t.breaks.first() {
            Some(b) if !self.break_taken && self.time >= b.earliest => {
                self.time + Duration::seconds(b.duration_secs)
            }
            _ => self.time,
        }
    }

    fn take_lunch(&mut self, t: &Technician) {
        let after = self.after_lunch(t);
        if after != self.time {
            self.time = after;
            self.break_taken = true;
        }
    }

    /// Travel and start time of job `ji` done next, if it fits its window and the shift.
    fn fit(
        &self,
        t: &Technician,
        legs: &Legs,
        jobs: &[Job],
        ji: usize,
    ) -> Option<(i64, DateTime<Utc>)> {
        let j = &jobs[ji];
        let (d, _) = legs.leg(self.at, legs.job(ji));
        let arrive = self.after_lunch(t) + Duration::seconds(d);
        let start = match j.window {
            Some((a, _)) if arrive < a => a,
            _ => arrive,
        };
        if j.window.is_some_and(|(_, b)| start > b) {
            return None;
        }
        let finish = start + Duration::seconds(j.service_secs);
        let (back, _) = legs.leg(legs.job(ji), self.home);
        (finish + Duration::seconds(back) <= t.shift_end).then_some((d, start))
    }

    /// Drives to job `ji` and does it.
    fn visit(
        &mut self,
        t: &Technician,
        legs: &Legs,
        jobs: &[Job],
        ji: usize,
        start: DateTime<Utc>,
    ) {
        self.take_lunch(t);
        let j = &jobs[ji];
        let (d, m) = legs.leg(self.at, legs.job(ji));
        self.route.travel_secs += d;
        self.route.distance_m += m;
        self.route.onsite_secs += j.service_secs;
        let departure = start + Duration::seconds(j.service_secs);
        self.route.stops.push(Stop {
            job_id: j.id.clone(),
            arrival: start,
            departure,
            travel_secs: d,
        });
        self.at = legs.job(ji);
        self.time = departure;
    }

    /// Drives home; the day ends.
    fn go_home(&mut self, legs: &Legs) {
        let (d, m) = legs.leg(self.at, self.home);
        if !self.route.stops.is_empty() {
            self.route.travel_secs += d;
            self.route.distance_m += m;
            self.time += Duration::seconds(d);
        }
        self.route.end = self.time;
        self.done = true;
    }
}

fn finish(techs: &[Technician], jobs: &[Job], st: Vec<State>, served: &[bool]) -> Plan {
    let routes = st
        .into_iter()
        .map(|s| s.route)
        .filter(|r| !r.stops.is_empty())
        .collect();
    let unassigned = jobs
        .iter()
        .zip(served)
        .filter(|(_, s)| !**s)
        .map(|(j, _)| Unassigned {
            job_id: j.id.clone(),
            reason: crate::precheck(techs, j).unwrap_or(UnassignedReason::NoTimeLeft),
        })
        .collect();
    Plan { routes, unassigned }
}

fn has_skill(t: &Technician, j: &Job) -> bool {
    j.skill.as_ref().is_none_or(|k| t.skills.contains(k))
}

/// Every free technician takes the nearest job (urgent first) they can still fit.
pub fn plan(
    techs: &[Technician],
    jobs: &[Job],
    travel: &TravelModel,
) -> Result<Plan, RoutingError> {
    let legs = Legs::new(techs, jobs, travel)?;
    let mut st: Vec<State> = techs
        .iter()
        .enumerate()
        .map(|(i, t)| State::new(i, t))
        .collect();
    let mut served = vec![false; jobs.len()];
    // The technician who is free first.
    while let Some(ti) = (0..techs.len())
        .filter(|i| !st[*i].done)
        .min_by_key(|i| st[*i].time)
    {
        let t = &techs[ti];
        st[ti].take_lunch(t);
        let s = &st[ti];
        let best = (0..jobs.len())
            .filter(|&ji| !served[ji] && has_skill(t, &jobs[ji]))
            .filter_map(|ji| s.fit(t, &legs, jobs, ji).map(|(_, start)| (ji, start)))
            // Urgent first, then nearest (by travel time, waiting included).
            .min_by_key(|&(ji, start)| (!jobs[ji].urgent, (start - s.time).num_seconds(), ji));
        match best {
            Some((ji, start)) => {
                st[ti].visit(t, &legs, jobs, ji, start);
                served[ji] = true;
            }
            // Nothing left this technician can do: go home.
            None => st[ti].go_home(&legs),
        }
    }
    Ok(finish(techs, jobs, st, &served))
}

/// Each call in turn to the nearest free technician with the skill (see the module comment).
pub fn hand(
    techs: &[Technician],
    jobs: &[Job],
    travel: &TravelModel,
) -> Result<Plan, RoutingError> {
    let legs = Legs::new(techs, jobs, travel)?;
    let mut st: Vec<State> = techs
        .iter()
        .enumerate()
        .map(|(i, t)| State::new(i, t))
        .collect();
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    // Urgent calls are handled as they come; among the rest, the order they came in.
    order.sort_by_key(|&i| (!jobs[i].urgent, i));
    let mut served = vec![false; jobs.len()];
    for ji in order {
        let best = techs
            .iter()
            .enumerate()
            .filter(|(_, t)| has_skill(t, &jobs[ji]))
            .filter_map(|(ti, t)| {
                st[ti]
                    .fit(t, &legs, jobs, ji)
                    .map(|(d, start)| (d, ti, start))
            })
            .min_by_key(|&(d, ti, _)| (d, ti));
        if let Some((_, ti, start)) = best {
            st[ti].visit(&techs[ti], &legs, jobs, ji, start);
            served[ji] = true;
        }
    }
    for s in st.iter_mut() {
        s.go_home(&legs);
    }
    Ok(finish(techs, jobs, st, &served))
}
