//! Route planning for technicians' days, on the vrp-core / vrp-pragmatic solver.
//!
//! Input: technicians (start and end, shift, breaks, skills) and jobs (location, service time,
//! appointment window, required skill, urgency) and a [`TravelModel`]. Output: per technician the
//! ordered stops with ETAs, travel and on-site minutes; unassigned jobs with a reason.

pub mod anneal;
pub mod greedy;
pub mod hgs;
pub mod insert;
pub mod solomon;
pub mod travel;

use std::io::BufWriter;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
pub use travel::{Point, TravelModel};
use vrp_core::prelude::*;
use vrp_core::rosomaxa::evolution::TelemetryMode;
use vrp_core::utils::Parallelism;
use vrp_pragmatic::format::problem::{Matrix, PragmaticProblem, Problem as ApiProblem};
use vrp_pragmatic::format::solution::{
    write_pragmatic, PragmaticOutputType, Solution as ApiSolution, Stop as ApiStop,
};

#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("invalid routing input: {0}")]
    Input(String),
    #[error("solver failed: {0}")]
    Solver(String),
}

/// A break the technician must take within a window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Break {
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
    pub duration_secs: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Technician {
    pub id: String,
    pub start: Point,
    /// Where the day ends; the start when absent.
    pub end: Option<Point>,
    pub shift_start: DateTime<Utc>,
    pub shift_end: DateTime<Utc>,
    #[serde(default)]
    pub breaks: Vec<Break>,
    pub skills: Vec<String>,
    /// The store the technician works for, when several stores are planned together.
    #[serde(default)]
    pub store: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub location: Point,
    pub service_secs: i64,
    /// The appointment window, if any.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub skill: Option<String>,
    /// SLA-urgent: assigned before others and early in the day.
    #[serde(default)]
    pub urgent: bool,
    /// Pinned by the dispatcher to this technician.
    #[serde(default)]
    pub pinned_to: Option<String>,
    /// The store the job belongs to, when several stores are planned together: another
    /// store's technician takes it only when that saves more than a quarter of an hour's
    /// driving (or serves a job that would be left out).
    #[serde(default)]
    pub store: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SolveOptions {
    pub max_seconds: Option<usize>,
    pub max_generations: Option<usize>,
    /// One thread and a fixed random sequence: the same input gives the same plan.
    pub repeatable: bool,
    /// Threads the solver may use (all cores when `None`); `repeatable` implies one.
    pub threads: Option<usize>,
    /// Which search the solver runs (see [`Search`]).
    pub search: Search,
}

/// Solver configurations to choose from (`docs/BENCHMARKS.md` has what each one measured).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Search {
    /// vrp-core's defaults: dynamic operator selection; a rosomaxa population when the solver
    /// has more than one thread, only the best solution on one.
    #[default]
    Library,
    /// Dynamic operators with a small elitist population.
    Elitism,
    /// The static operator mix with an elitist population.
    StaticElitism,
    /// vrp-core's dynamic operators searching from one current solution that simulated annealing
    /// accepts (see [`anneal`]); the best on the Solomon instances with one thread.
    Anneal(anneal::Schedule),
    /// Our hybrid genetic search ([`hgs`]), on one core.
    Hgs,
    /// Our iterated local search ([`hgs::Method::Iterated`]), on one core.
    Ils,
}

impl Search {
    /// The parameters of our own search, when this is one of ours.
    pub fn own(self) -> Option<hgs::Params> {
        match self {
            Search::Hgs => Some(hgs::Params::default()),
            Search::Ils => Some(hgs::Params::iterated()),
            _ => None,
        }
    }
}

impl std::str::FromStr for Search {
    type Err = String;

    /// `library`, `elitism`, `static-elitism`, `anneal` or `anneal:START:END[:RESTART]`
    /// (temperatures as shares of the best cost; back to the best after RESTART generations
    /// without a new best).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "library" => Ok(Search::Library),
            "elitism" => Ok(Search::Elitism),
            "static-elitism" => Ok(Search::StaticElitism),
            "anneal" => Ok(Search::Anneal(anneal::Schedule::default())),
            "hgs" => Ok(Search::Hgs),
            "ils" => Ok(Search::Ils),
            _ => {
                let bad = || {
                    format!(
                        "unknown search {s:?}: library, elitism, static-elitism, hgs, ils, anneal or \
                         anneal:START:END[:RESTART] (e.g. anneal:0.03:0.001)"
                    )
                };
                let rest = s.strip_prefix("anneal:").ok_or_else(bad)?;
                let mut parts = rest.split(':');
                let (a, b) = (parts.next().unwrap_or(""), parts.next().ok_or_else(bad)?);
                let start: f64 = a.parse().map_err(|_| bad())?;
                let end: f64 = b.parse().map_err(|_| bad())?;
                let restart_after: usize = match parts.next() {
                    Some(r) => r.parse().map_err(|_| bad())?,
                    None => 0,
                };
                if parts.next().is_some() {
                    return Err(bad());
                }
                if !(start > 0.0 && end > 0.0 && end <= start) {
                    return Err(format!(
                        "anneal:START:END needs 0 < END <= START, got {start} and {end}"
                    ));
                }
                Ok(Search::Anneal(anneal::Schedule {
                    start,
                    end,
                    restart_after,
                }))
            }
        }
    }
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            max_seconds: Some(5),
            max_generations: Some(3000),
            repeatable: false,
            threads: None,
            search: Search::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stop {
    pub job_id: String,
    pub arrival: DateTime<Utc>,
    pub departure: DateTime<Utc>,
    /// Travel from the previous stop (or the start).
    pub travel_secs: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Route {
    pub technician_id: String,
    pub stops: Vec<Stop>,
    pub travel_secs: i64,
    pub onsite_secs: i64,
    pub distance_m: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnassignedReason {
    /// No technician has the skill the job needs.
    NoSkill,
    /// The window lies outside every skilled technician's shift.
    OutsideWindows,
    /// The skilled technicians have no time left for it.
    NoTimeLeft,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Unassigned {
    pub job_id: String,
    pub reason: UnassignedReason,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    pub routes: Vec<Route>,
    pub unassigned: Vec<Unassigned>,
}

impl Plan {
    pub fn travel_secs(&self) -> i64 {
        self.routes.iter().map(|r| r.travel_secs).sum()
    }
    pub fn onsite_secs(&self) -> i64 {
        self.routes.iter().map(|r| r.onsite_secs).sum()
    }
    pub fn jobs_served(&self) -> usize {
        self.routes.iter().map(|r| r.stops.len()).sum()
    }
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_rfc(s: &str) -> Result<DateTime<Utc>, RoutingError> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| RoutingError::Solver(format!("bad time {s}: {e}")))
}

/// Runs the solver on a pragmatic problem with its matrix and returns the pragmatic solution.
pub fn solve_pragmatic(
    problem: ApiProblem,
    matrix: Matrix,
    opts: &SolveOptions,
) -> Result<ApiSolution, RoutingError> {
    if opts.search.own().is_some() {
        // Our search has its own model (`hgs`); it never runs through vrp-core.
        return Err(RoutingError::Input(
            "our own search does not run on vrp-core's problem".into(),
        ));
    }
    let core = Arc::new(
        (problem, vec![matrix])
            .read_pragmatic()
            .map_err(|e| RoutingError::Input(e.to_string()))?,
    );
    // vrp-core runs its search on rayon's pool: a pool of our own holds it to the threads asked
    // for (the global pool would use every core even for "one thread").
    let threads = if opts.repeatable {
        1
    } else {
        opts.threads.unwrap_or(0)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| RoutingError::Solver(e.to_string()))?;
    let cpus = pool.current_num_threads();
    let solution = pool.install(|| -> Result<_, RoutingError> {
        let environment = Arc::new(Environment {
            random: if opts.repeatable {
                Arc::new(DefaultRandom::new_repeatable())
            } else {
                Arc::new(DefaultRandom::default())
            },
            logger: Arc::new(|_: &str| {}),
            parallelism: Parallelism::new_with_cpus(cpus),
            ..Environment::default()
        });
        let mut builder = VrpConfigBuilder::new(core.clone())
            .set_environment(environment.clone())
            .set_telemetry_mode(TelemetryMode::None);
        if opts.search == Search::StaticElitism {
            builder = builder.set_heuristic(Box::new(vrp_core::solver::get_static_heuristic(
                core.clone(),
                environment.clone(),
            )));
        }
        let mut config = builder
            .prebuild()
            .map_err(|e| RoutingError::Solver(e.to_string()))?;
        let population: Option<vrp_core::solver::TargetPopulation> = match opts.search {
            Search::Library => None,
            Search::Hgs | Search::Ils => unreachable!("refused above"),
            Search::Elitism | Search::StaticElitism => Some(Box::new(
                vrp_core::solver::create_elitism_population(core.goal.clone(), environment.clone()),
            )),
            Search::Anneal(schedule) => Some(Box::new(anneal::Annealing::new(
                core.goal.clone(),
                environment.random.clone(),
                schedule,
            ))),
        };
        if let Some(population) = population {
            config = config.with_context(vrp_core::solver::RefinementContext::new(
                core.clone(),
                population,
                TelemetryMode::None,
                environment.clone(),
            ));
        }
        let config = config
            .with_max_time(opts.max_seconds)
            .with_max_generations(opts.max_generations)
            .build()
            .map_err(|e| RoutingError::Solver(e.to_string()))?;
        Solver::new(core.clone(), config)
            .solve()
            .map_err(|e| RoutingError::Solver(e.to_string()))
    })?;
    let mut buf = Vec::new();
    write_pragmatic(
        &core,
        &solution,
        PragmaticOutputType::OnlyPragmatic,
        &mut BufWriter::new(&mut buf),
    )
    .map_err(|e| RoutingError::Solver(e.to_string()))?;
    serde_json::from_slice(&buf).map_err(|e| RoutingError::Solver(e.to_string()))
}

/// Plans the technicians' day.
pub fn plan(
    techs: &[Technician],
    jobs: &[Job],
    travel: &TravelModel,
    opts: &SolveOptions,
) -> Result<Plan, RoutingError> {
    if !(techs.is_empty() || jobs.is_empty()) && opts.search.own().is_some() {
        return hgs::day::plan(techs, jobs, travel, opts);
    }
    if techs.is_empty() || jobs.is_empty() {
        return Ok(Plan {
            routes: vec![],
            unassigned: jobs
                .iter()
                .map(|j| Unassigned {
                    job_id: j.id.clone(),
                    reason: precheck(techs, j).unwrap_or(UnassignedReason::NoTimeLeft),
                })
                .collect(),
        });
    }
    // Locations: technicians' starts and ends, then jobs.
    let mut points: Vec<Point> = Vec::new();
    let mut index_of = |p: Point| -> usize {
        match points.iter().position(|q| *q == p) {
            Some(i) => i,
            None => {
                points.push(p);
                points.len() - 1
            }
        }
    };
    let tech_idx: Vec<(usize, usize)> = techs
        .iter()
        .map(|t| (index_of(t.start), index_of(t.end.unwrap_or(t.start))))
        .collect();
    let job_idx: Vec<usize> = jobs.iter().map(|j| index_of(j.location)).collect();
    let (durations, distances) = travel.matrix(&points)?;

    let api_jobs: Vec<serde_json::Value> = jobs
        .iter()
        .zip(&job_idx)
        .map(|(j, idx)| {
            let mut place = json!({"location": {"index": idx}, "duration": j.service_secs as f64});
            if let Some((a, b)) = j.window {
                place["times"] = json!([[rfc(a), rfc(b)]]);
            }
            let mut task = json!({"places": [place]});
            if j.urgent {
                task["order"] = json!(1);
            }
            let mut job = json!({"id": j.id, "services": [task], "value": if j.urgent { 1000.0 } else { 1.0 }});
            if let Some(s) = &j.skill {
                job["skills"] = json!({"allOf": [s]});
            }
            job
        })
        .collect();
    let vehicles: Vec<serde_json::Value> = techs
        .iter()
        .zip(&tech_idx)
        .map(|(t, (s, e))| {
            let breaks: Vec<serde_json::Value> = t
                .breaks
                .iter()
                .map(|b| json!({"time": {"earliest": rfc(b.earliest), "latest": rfc(b.latest)}, "duration": b.duration_secs as f64}))
                .collect();
            let mut shift = json!({
                "start": {"earliest": rfc(t.shift_start), "location": {"index": s}},
                "end": {"latest": rfc(t.shift_end), "location": {"index": e}},
            });
            if !breaks.is_empty() {
                shift["breaks"] = json!(breaks);
            }
            json!({
                "typeId": format!("type-{}", t.id),
                "vehicleIds": [t.id],
                "profile": {"matrix": "city"},
                "costs": {"fixed": 0.0, "distance": 1.0, "time": 0.01},
                "shifts": [shift],
                "capacity": [1000],
                "skills": t.skills,
            })
        })
        .collect();
    // Urgent jobs carry more value (assigned first); their deadlines are windows. Putting them
    // early in the tour only breaks ties: as a goal above cost it added a fifth to the driving
    // (docs/BENCHMARKS.md, dispatch).
    let mut objectives = vec![
        json!({"type": "maximize-value"}),
        json!({"type": "minimize-unassigned"}),
    ];
    objectives.push(json!({"type": "minimize-cost"}));
    if jobs.iter().any(|j| j.urgent) {
        objectives.push(json!({"type": "tour-order"}));
    }
    let mut relations = Vec::new();
    for t in techs {
        let pinned: Vec<&str> = jobs
            .iter()
            .filter(|j| j.pinned_to.as_deref() == Some(t.id.as_str()))
            .map(|j| j.id.as_str())
            .collect();
        if !pinned.is_empty() {
            relations.push(json!({"type": "any", "jobs": pinned, "vehicleId": t.id}));
        }
    }
    if let Some(j) = jobs.iter().find(|j| {
        j.pinned_to
            .as_ref()
            .is_some_and(|p| !techs.iter().any(|t| &t.id == p))
    }) {
        return Err(RoutingError::Input(format!(
            "job {} is pinned to an unknown technician",
            j.id
        )));
    }
    let mut plan_json = json!({"jobs": api_jobs});
    if !relations.is_empty() {
        plan_json["relations"] = json!(relations);
    }
    let problem: ApiProblem = serde_json::from_value(json!({
        "plan": plan_json,
        "fleet": {"vehicles": vehicles, "profiles": [{"name": "city"}]},
        "objectives": objectives,
    }))
    .map_err(|e| RoutingError::Input(e.to_string()))?;
    let matrix = Matrix {
        profile: Some("city".into()),
        timestamp: None,
        travel_times: durations.clone(),
        distances,
        error_codes: None,
    };
    let solution = solve_pragmatic(problem, matrix, opts)?;

    let by_id = |id: &str| jobs.iter().position(|j| j.id == id);
    let mut routes = Vec::new();
    for tour in &solution.tours {
        let mut stops = Vec::new();
        let mut prev: Option<usize> = None;
        let mut travel_secs = 0;
        let mut onsite_secs = 0;
        for stop in &tour.stops {
            let (schedule, acts) = match stop {
                ApiStop::Point(p) => (&p.time, &p.activities),
                ApiStop::Transit(t) => (&t.time, &t.activities),
            };
            for a in acts {
                let loc = match a.activity_type.as_str() {
                    "departure" => Some(
                        tech_idx[techs
                            .iter()
                            .position(|t| t.id == tour.vehicle_id)
                            .unwrap_or(0)]
                        .0,
                    ),
                    "service" => by_id(&a.job_id).map(|i| job_idx[i]),
                    "arrival" => Some(
                        tech_idx[techs
                            .iter()
                            .position(|t| t.id == tour.vehicle_id)
                            .unwrap_or(0)]
                        .1,
                    ),
                    _ => None,
                };
                if let Some(l) = loc {
                    let leg = prev.map(|p| durations[p * points.len() + l]).unwrap_or(0);
                    travel_secs += leg;
                    prev = Some(l);
                    if a.activity_type == "service" {
                        let (arr, dep) = match &a.time {
                            Some(iv) => (parse_rfc(&iv.start)?, parse_rfc(&iv.end)?),
                            None => (
                                parse_rfc(&schedule.arrival)?,
                                parse_rfc(&schedule.departure)?,
                            ),
                        };
                        let j = by_id(&a.job_id).map(|i| &jobs[i]);
                        onsite_secs += j.map(|j| j.service_secs).unwrap_or(0);
                        stops.push(Stop {
                            job_id: a.job_id.clone(),
                            arrival: arr,
                            departure: dep,
                            travel_secs: leg,
                        });
                    }
                }
            }
        }
        let first = tour.stops.first().map(|s| match s {
            ApiStop::Point(p) => p.time.departure.clone(),
            ApiStop::Transit(t) => t.time.departure.clone(),
        });
        let last = tour.stops.last().map(|s| match s {
            ApiStop::Point(p) => p.time.arrival.clone(),
            ApiStop::Transit(t) => t.time.arrival.clone(),
        });
        routes.push(Route {
            technician_id: tour.vehicle_id.clone(),
            stops,
            travel_secs,
            onsite_secs,
            distance_m: tour.statistic.distance,
            start: first
                .as_deref()
                .map(parse_rfc)
                .transpose()?
                .unwrap_or_else(|| Utc.timestamp_opt(0, 0).single().unwrap_or_default()),
            end: last
                .as_deref()
                .map(parse_rfc)
                .transpose()?
                .unwrap_or_else(|| Utc.timestamp_opt(0, 0).single().unwrap_or_default()),
        });
    }
    routes.sort_by(|a, b| a.technician_id.cmp(&b.technician_id));
    let unassigned = solution
        .unassigned
        .unwrap_or_default()
        .into_iter()
        .map(|u| {
            let reason = by_id(&u.job_id)
                .and_then(|i| precheck(techs, &jobs[i]))
                .unwrap_or(UnassignedReason::NoTimeLeft);
            Unassigned {
                job_id: u.job_id,
                reason,
            }
        })
        .collect();
    Ok(Plan { routes, unassigned })
}

/// The reason a job cannot be served by anyone at all, if there is one.
fn precheck(techs: &[Technician], j: &Job) -> Option<UnassignedReason> {
    let skilled: Vec<&Technician> = techs
        .iter()
        .filter(|t| j.skill.as_ref().is_none_or(|s| t.skills.contains(s)))
        .collect();
    if skilled.is_empty() {
        return Some(UnassignedReason::NoSkill);
    }
    if let Some((a, b)) = j.window {
        let fits = skilled.iter().any(|t| a < t.shift_end && b > t.shift_start);
        if !fits {
            return Some(UnassignedReason::OutsideWindows);
        }
    }
    None
}
