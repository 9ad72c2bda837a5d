//! Our search for vehicle routing with time windows, in two methods over one model and one
//! granular local search, with infeasible solutions allowed at a penalty that adapts to keep a
//! target share feasible:
//! - [`Method::Genetic`], a hybrid genetic search after Vidal et al.'s HGS (2012, 2013, 2022)
//!   and PyVRP (Wouda, Lan and Kool 2024): a population of solutions kept diverse, selective
//!   route exchange crossover, the local search on every child. On a store's day, where
//!   serving the most jobs matters more than driving, it serves the most; the planner runs it
//!   for most of its budget, then the iterated search from its best ([`Params::polish`]),
//!   which cuts the driving;
//! - [`Method::Iterated`], PyVRP 0.14's iterated local search: one current solution perturbed
//!   around a random client and searched again where it changed, accepted by late-acceptance
//!   hill climbing. The better on large instances that are mostly routing (docs/BENCHMARKS.md).
//!
//! The search knows clients (time window, service time, demand, which vehicles may serve
//! them, optional with a prize) and vehicles (start, end, shift, capacity, fixed cost); it
//! minimises arc costs plus fixed costs plus the prizes of the clients left out. It is
//! deterministic for a seed when it is bounded by iterations rather than time.

mod crossover;
pub mod day;
mod local_search;
pub mod model;
mod population;
pub(crate) mod segment;
pub mod solution;

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

pub use model::{Client, Model, Vehicle};
pub use population::PopulationParams;
pub use solution::{Penalties, Solution};

use local_search::LocalSearch;
use population::Population;

/// How the search moves from solution to solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A population kept diverse, crossover, a local search on every child ([`solve`]).
    Genetic,
    /// One current solution, perturbed and searched again, with late acceptance
    /// ([`iterated`]): PyVRP 0.14's method.
    Iterated,
}

#[derive(Debug, Clone)]
pub struct Params {
    pub method: Method,
    pub seed: u64,
    /// Stop after this long (wall clock)...
    pub time_limit: Option<Duration>,
    /// ...or after this many children (the only bound that makes a run repeatable).
    pub max_iterations: Option<usize>,
    /// How many nearest clients each client's moves consider.
    pub neighbours: usize,
    pub population: PopulationParams,
    /// Solutions made before the first crossover.
    pub initial: usize,
    /// Chance that an infeasible child is searched again at boosted penalties.
    pub repair_probability: f64,
    pub repair_booster: f64,
    /// Children without a new best before the population starts over.
    pub restart_after: usize,
    /// Share of local-search results wanted feasible in load and in time.
    pub target_feasible: f64,
    /// Children (steps) between penalty updates.
    pub penalty_every: usize,
    /// Factors a penalty is raised by when too few are feasible, lowered by when too many.
    pub penalty_increase: f64,
    pub penalty_decrease: f64,
    /// Iterated search: how many accepted steps back the late acceptance compares with.
    pub history: usize,
    /// Iterated search: clients a step perturbs, at most (at least one).
    pub max_perturbed: usize,
    /// Genetic search: the share of the budget (time and iterations) left at the end to the
    /// iterated search, started from the genetic search's best (0: none).
    pub polish: f64,
    /// Iterated steps per genetic child, to turn the polish's share of a budget of children
    /// into steps: about what one costs against the other (Solomon's R101 and RC2 on one core,
    /// 2,900–3,000 steps a second against 480–560 children).
    pub steps_per_child: usize,
    /// Penalties rise no higher than this.
    pub max_penalty: f64,
    /// Penalties to start with (else worked out from the matrices and demands).
    pub initial_penalties: Option<Penalties>,
    /// Solutions to start from (each vehicle's client places), besides random ones.
    pub start_from: Vec<Vec<Vec<u32>>>,
    /// Also run SWAP* (Vidal 2022) in the local search. Off: on the 400-customer instances at
    /// 10 s it did worse (docs/BENCHMARKS.md), the time going to fewer children.
    pub swap_star: bool,
}

impl Params {
    /// The iterated search with PyVRP 0.14's settings: a restart after 150,000 steps without a
    /// new best, two thirds of the steps wanted feasible, penalties updated every 500 steps
    /// (×1.5 up, ×0.9 down), a history of 300, up to 25 clients perturbed.
    pub fn iterated() -> Params {
        Params {
            method: Method::Iterated,
            restart_after: 150_000,
            target_feasible: 0.65,
            penalty_every: 500,
            penalty_increase: 1.5,
            penalty_decrease: 0.9,
            ..Params::default()
        }
    }
}

impl Default for Params {
    /// The genetic search with HGS-CVRP's settings.
    fn default() -> Self {
        Params {
            method: Method::Genetic,
            seed: 1,
            time_limit: Some(Duration::from_secs(5)),
            max_iterations: None,
            neighbours: 40,
            population: PopulationParams::default(),
            initial: 50,
            repair_probability: 0.5,
            repair_booster: 10.0,
            restart_after: 20_000,
            target_feasible: 0.2,
            penalty_every: 100,
            penalty_increase: 1.2,
            penalty_decrease: 0.85,
            history: 300,
            max_perturbed: 25,
            polish: 0.0,
            steps_per_child: 6,
            max_penalty: 100_000.0,
            swap_star: false,
            start_from: vec![],
            initial_penalties: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    /// The best feasible solution, else the least infeasible one.
    pub best: Solution,
    pub iterations: usize,
    pub restarts: usize,
}

/// Each client's nearest clients by a distance that also counts waiting and lateness
/// (PyVRP's proximity: arc cost + 0.2 · waiting + 1 · time warp, the smaller both ways),
/// leaving out clients no common vehicle may serve, and breaks but from breaks' own lists.
pub fn neighbours(m: &Model, k: usize) -> Vec<Vec<u32>> {
    let n = m.clients.len();
    let d = m.depots;
    let nv = m.vehicles.len();
    let share = |a: usize, b: usize| {
        m.allowed.is_empty() || (0..nv).any(|v| m.allowed[a * nv + v] && m.allowed[b * nv + v])
    };
    let prox = |a: usize, b: usize| -> f64 {
        let (ca, cb) = (&m.clients[a], &m.clients[b]);
        let t = m.time(a + d, b + d);
        let wait = (cb.early - ca.service - t - ca.late).max(0);
        let warp = (ca.early + ca.service + t - cb.late).max(0);
        m.cost(a + d, b + d) as f64 + 0.2 * wait as f64 + warp as f64
    };
    (0..n)
        .map(|a| {
            let mut near: Vec<(f64, u32)> = (0..n)
                .filter(|&b| {
                    b != a && share(a, b) && (!m.clients[b].placeless || m.clients[a].placeless)
                })
                .map(|b| (prox(a, b).min(prox(b, a)), (b + d) as u32))
                .collect();
            let take = k.min(near.len());
            if take > 0 && take < near.len() {
                near.select_nth_unstable_by(take - 1, |x, y| {
                    x.0.total_cmp(&y.0).then(x.1.cmp(&y.1))
                });
                near.truncate(take);
            }
            near.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
            near.into_iter().map(|x| x.1).collect()
        })
        .collect()
}

/// Clients shuffled and dealt out in runs over the vehicles; optional ones half the time.
fn random_solution<R: Rng>(m: &Model, rng: &mut R) -> Solution {
    let mut clients: Vec<u32> = (0..m.clients.len())
        .filter(|&c| m.clients[c].required || rng.gen_bool(0.5))
        .map(|c| (c + m.depots) as u32)
        .collect();
    clients.shuffle(rng);
    let nv = m.vehicles.len();
    let per_route = (clients.len() / nv).max(1);
    let mut routes = vec![vec![]; nv];
    for (k, &p) in clients.iter().enumerate() {
        let mut v = (k / per_route) % nv;
        if !m.may_serve(v, p as usize) {
            let allowed: Vec<usize> = (0..nv).filter(|&w| m.may_serve(w, p as usize)).collect();
            match allowed.choose(rng) {
                Some(&w) => v = w,
                None => continue,
            }
        }
        routes[v].push(p);
    }
    Solution::new(m, routes)
}

fn initial_penalties(m: &Model) -> Penalties {
    let max_cost = m.cost.iter().copied().max().unwrap_or(1).max(1) as f64;
    let max_demand = m.clients.iter().map(|c| c.demand).max().unwrap_or(0);
    let load = if max_demand > 0 {
        (max_cost / max_demand as f64).clamp(0.1, 1000.0)
    } else {
        1.0
    };
    let (sc, st) = (m.cost.iter().sum::<i64>(), m.time.iter().sum::<i64>());
    let time_warp = if st > 0 {
        (sc as f64 / st as f64).clamp(0.1, 1000.0)
    } else {
        1.0
    };
    Penalties { load, time_warp }
}

struct Search<'m> {
    m: &'m Model,
    p: Params,
    rng: StdRng,
    ls: LocalSearch<'m>,
    pop: Population,
    pen: Penalties,
    load_ok: Vec<bool>,
    time_ok: Vec<bool>,
    best: Option<Solution>,
    since_best: usize,
}

impl Search<'_> {
    fn better(&self, s: &Solution) -> bool {
        match &self.best {
            None => true,
            Some(b) => match (s.is_feasible(), b.is_feasible()) {
                (true, false) => true,
                (false, true) => false,
                (true, true) => s.cost < b.cost,
                (false, false) => {
                    let unit = Penalties {
                        load: 1e6,
                        time_warp: 1e6,
                    };
                    s.penalised(&unit) < b.penalised(&unit)
                }
            },
        }
    }

    fn consider(&mut self, s: &Solution) {
        if self.better(s) {
            self.best = Some(s.clone());
            self.since_best = 0;
        }
    }

    /// Searches `s` locally and adds the result (and its repair, sometimes) to the population.
    fn educate(&mut self, s: &Solution) {
        let s = self.ls.run(s, self.pen, &mut self.rng);
        self.load_ok.push(s.excess_load == 0);
        self.time_ok.push(s.time_warp == 0);
        self.consider(&s);
        let feasible = s.is_feasible();
        self.pop.add(s.clone(), &self.pen);
        if !feasible && self.rng.gen_bool(self.p.repair_probability) {
            let boosted = Penalties {
                load: self.pen.load * self.p.repair_booster,
                time_warp: self.pen.time_warp * self.p.repair_booster,
            };
            let r = self.ls.run(&s, boosted, &mut self.rng);
            if r.is_feasible() {
                self.consider(&r);
                self.pop.add(r, &self.pen);
            }
        }
    }

    fn update_penalties(&mut self) {
        self.pen = adapted(&self.p, self.pen, &self.load_ok, &self.time_ok);
        self.load_ok.clear();
        self.time_ok.clear();
    }
}

/// The penalties after a round of solutions, each judged feasible or not in load and in time:
/// raised when fewer than the share wanted were, lowered when more (within five points, kept).
fn adapted(p: &Params, pen: Penalties, load_ok: &[bool], time_ok: &[bool]) -> Penalties {
    let adjust = |ok: &[bool], w: f64| -> f64 {
        if ok.is_empty() {
            return w;
        }
        let share = ok.iter().filter(|x| **x).count() as f64 / ok.len() as f64;
        if share < p.target_feasible - 0.05 {
            (w * p.penalty_increase).min(p.max_penalty)
        } else if share > p.target_feasible + 0.05 {
            (w * p.penalty_decrease).max(0.1)
        } else {
            w
        }
    };
    Penalties {
        load: adjust(load_ok, pen.load),
        time_warp: adjust(time_ok, pen.time_warp),
    }
}

/// Takes optional clients out of an infeasible solution, each time the one whose leaving
/// lowers its time warp and excess load most, until it is feasible or none is left to take.
fn drop_until_feasible(m: &Model, mut s: Solution) -> Solution {
    while !s.is_feasible() {
        let mut best: Option<(i64, usize, usize)> = None;
        for (v, route) in s.routes.iter().enumerate() {
            let seg = solution::route_segment(m, v, route);
            let excess = |seg: &segment::Segment| {
                seg.time_warp() + (seg.load - m.vehicles[v].capacity).max(0)
            };
            let now = excess(&seg);
            if now == 0 {
                continue;
            }
            for k in 0..route.len() {
                if m.client(route[k] as usize).required {
                    continue;
                }
                let mut rest = route.clone();
                rest.remove(k);
                let gain = now - excess(&solution::route_segment(m, v, &rest));
                if best.is_none_or(|b| gain > b.0) {
                    best = Some((gain, v, k));
                }
            }
        }
        let Some((_, v, k)) = best else {
            return s;
        };
        let mut routes = s.routes;
        routes[v].remove(k);
        s = Solution::new(m, routes);
    }
    s
}

/// Serves the optional clients a feasible solution leaves out wherever one still fits (within
/// every window, shift and capacity, the vehicle's breaks placed anew) for less than its
/// prize: the most valuable first, each where it costs least. Dropping clients to make a
/// solution feasible can leave room for some of them again.
fn serve_left_out(m: &Model, s: Solution) -> Solution {
    if !s.is_feasible() {
        return s;
    }
    let mut routes = s.routes;
    let mut served = vec![false; m.clients.len()];
    for &p in routes.iter().flatten() {
        served[p as usize - m.depots] = true;
    }
    let mut left: Vec<usize> = (0..m.clients.len())
        .filter(|&c| !served[c] && !m.clients[c].required)
        .collect();
    left.sort_by_key(|&c| std::cmp::Reverse(m.clients[c].prize));
    for c in left {
        let p = (m.depots + c) as u32;
        let mut best: Option<(i64, usize, Vec<u32>)> = None;
        for (v, route) in routes.iter().enumerate() {
            if !m.may_serve(v, p as usize) {
                continue;
            }
            let (breaks, order): (Vec<u32>, Vec<u32>) =
                route.iter().partition(|&&q| m.client(q as usize).placeless);
            // An unused vehicle costs nothing; used, its fixed cost and the drive from its
            // start to its end.
            let before = if route.is_empty() {
                -m.vehicles[v].fixed_cost
            } else {
                solution::route_cost(m, v, &order)
            };
            for k in 0..=order.len() {
                let mut o = order.clone();
                o.insert(k, p);
                let added = solution::route_cost(m, v, &o) - before;
                if added >= m.clients[c].prize || best.as_ref().is_some_and(|b| b.0 <= added) {
                    continue;
                }
                let load: i64 = o
                    .iter()
                    .chain(&breaks)
                    .map(|&q| m.client(q as usize).demand)
                    .sum();
                if load > m.vehicles[v].capacity {
                    continue;
                }
                if let Some(visits) = solution::place_breaks(m, v, &o, &breaks) {
                    best = Some((added, v, visits));
                }
            }
        }
        if let Some((_, v, visits)) = best {
            routes[v] = visits;
        }
    }
    Solution::new(m, routes)
}

/// Runs the search until the time or iteration bound.
pub fn solve(m: &Model, p: &Params) -> Result<Outcome, String> {
    if p.method == Method::Iterated {
        return iterated(m, p);
    }
    m.validate()?;
    let started = Instant::now();
    let share = 1.0 - p.polish.clamp(0.0, 1.0);
    let time_limit = p.time_limit.map(|t| t.mul_f64(share));
    let max_iterations = p
        .max_iterations
        .map(|k| ((k as f64 * share) as usize).max(1));
    let out_of_budget = |iterations: usize| {
        time_limit.is_some_and(|t| started.elapsed() >= t)
            || max_iterations.is_some_and(|k| iterations >= k)
    };
    let kinds = m.vehicle_kinds();
    let mut s = Search {
        m,
        p: p.clone(),
        rng: StdRng::seed_from_u64(p.seed),
        ls: LocalSearch::new(m, neighbours(m, p.neighbours), p.swap_star),
        pop: Population::new(p.population),
        pen: p.initial_penalties.unwrap_or_else(|| initial_penalties(m)),
        load_ok: vec![],
        time_ok: vec![],
        best: None,
        since_best: 0,
    };
    let mut iterations = 0;
    let mut restarts = 0;
    let fill = |s: &mut Search, count: usize, iterations: usize| {
        for _ in 0..count {
            if out_of_budget(iterations) && s.best.is_some() {
                break;
            }
            let r = random_solution(s.m, &mut s.rng);
            s.educate(&r);
        }
    };
    for routes in &p.start_from {
        let given = Solution::new(m, routes.clone());
        s.consider(&given);
        s.educate(&given);
    }
    fill(&mut s, p.initial, iterations);
    while !out_of_budget(iterations) {
        iterations += 1;
        s.since_best += 1;
        let (a, b) = s.pop.parents(&s.pen, &mut s.rng);
        let child = crossover::srex(m, &a, &b, &s.pen, &kinds, &mut s.rng);
        s.educate(&child);
        if iterations % p.penalty_every == 0 {
            s.update_penalties();
        }
        if s.since_best > p.restart_after {
            restarts += 1;
            s.pop.clear();
            s.since_best = 0;
            fill(&mut s, p.population.min_size, iterations);
        }
    }
    let best = s.best.take().ok_or("no solution")?;
    let genetic = finish(m, best, iterations, restarts);
    if p.polish > 0.0 {
        let polished = polish(m, p, &genetic.best, started)?;
        if better(&polished.best, &genetic.best) {
            return Ok(Outcome {
                iterations: iterations + polished.iterations,
                restarts: restarts + polished.restarts,
                best: polished.best,
            });
        }
    }
    Ok(genetic)
}

/// Whether `a` is better than `b`: feasible before infeasible, then cheaper.
fn better(a: &Solution, b: &Solution) -> bool {
    match (a.is_feasible(), b.is_feasible()) {
        (true, false) => true,
        (false, true) => false,
        _ => a.cost < b.cost,
    }
}

/// The iterated search from the genetic search's best, in the budget left to it.
fn polish(m: &Model, p: &Params, best: &Solution, started: Instant) -> Result<Outcome, String> {
    let q = Params {
        seed: p.seed,
        time_limit: p.time_limit.map(|t| t.saturating_sub(started.elapsed())),
        max_iterations: p
            .max_iterations
            .map(|k| ((k as f64 * p.polish) as usize * p.steps_per_child).max(1)),
        neighbours: p.neighbours,
        max_penalty: p.max_penalty,
        initial_penalties: p.initial_penalties,
        swap_star: p.swap_star,
        start_from: vec![best.routes.clone()],
        ..Params::iterated()
    };
    iterated(m, &q)
}

/// Iterated local search with late-acceptance hill climbing (PyVRP 0.14's `solve`): from one
/// current solution, each step perturbs it and searches what changed
/// ([`LocalSearch::perturb_run`]); the step is kept when it is better than the current solution
/// or than the current solution of `history` accepted steps ago. A new best is searched again
/// in full. Penalties adapt to keep a share of the steps feasible.
fn iterated(m: &Model, p: &Params) -> Result<Outcome, String> {
    m.validate()?;
    let started = Instant::now();
    let out_of_budget = |iterations: usize| {
        p.time_limit.is_some_and(|t| started.elapsed() >= t)
            || p.max_iterations.is_some_and(|k| iterations >= k)
    };
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut ls = LocalSearch::new(m, neighbours(m, p.neighbours), p.swap_star);
    let mut pen = p.initial_penalties.unwrap_or_else(|| initial_penalties(m));
    let strict = Penalties {
        load: p.max_penalty,
        time_warp: p.max_penalty,
    };
    let mut starts: Vec<Solution> = p
        .start_from
        .iter()
        .map(|r| ls.run(&Solution::new(m, r.clone()), strict, &mut rng))
        .collect();
    if starts.is_empty() {
        let r = random_solution(m, &mut rng);
        starts.push(ls.run(&r, strict, &mut rng));
    }
    let init = starts
        .into_iter()
        .min_by(|a, b| a.penalised(&strict).total_cmp(&b.penalised(&strict)))
        .expect("one start at least");
    let cost = |s: &Solution| {
        if s.is_feasible() {
            s.cost as f64
        } else {
            f64::INFINITY
        }
    };
    let mut best = init.clone();
    let mut curr = init.clone();
    let mut history: Vec<Option<(i64, i64, i64, usize)>> = vec![None; p.history.max(1)];
    let mut at = 0usize;
    let key = |s: &Solution| (s.cost, s.excess_load, s.time_warp, s.missing);
    let pcost = |k: (i64, i64, i64, usize), pen: &Penalties| {
        k.0 as f64
            + pen.load * k.1 as f64
            + pen.time_warp * k.2 as f64
            + solution::MISSING * k.3 as f64
    };
    let (mut load_ok, mut time_ok) = (vec![], vec![]);
    let (mut iterations, mut restarts, mut since_best) = (0, 0, 0);
    while !out_of_budget(iterations) {
        iterations += 1;
        if since_best == p.restart_after {
            restarts += 1;
            history.iter_mut().for_each(|h| *h = None);
            curr = best.clone();
            since_best = 0;
        }
        let k = rng.gen_range(1..=p.max_perturbed.max(1));
        let mut cand = ls.perturb_run(&curr, pen, k, &mut rng);
        load_ok.push(cand.excess_load == 0);
        time_ok.push(cand.time_warp == 0);
        since_best += 1;
        if cost(&cand) < cost(&best)
            || (!best.is_feasible() && cand.penalised(&strict) < best.penalised(&strict))
        {
            best = cand.clone();
            since_best = 0;
            let full = ls.run(&cand, pen, &mut rng);
            if full.is_feasible() && full.cost < best.cost {
                best = full.clone();
            }
            cand = full;
        }
        let cand_cost = cand.penalised(&pen);
        let curr_cost = curr.penalised(&pen);
        let late = history[at];
        let late_cost = late.map_or(init.penalised(&pen), |k| pcost(k, &pen));
        let mut curr_now = curr_cost;
        if cand_cost < late_cost || cand_cost < curr_cost {
            curr = cand;
            curr_now = cand_cost;
        }
        if curr_now < late_cost || late.is_none() {
            history[at] = Some(key(&curr));
        }
        at = (at + 1) % history.len();
        if load_ok.len() == p.penalty_every {
            pen = adapted(p, pen, &load_ok, &time_ok);
            load_ok.clear();
            time_ok.clear();
        }
    }
    Ok(finish(m, best, iterations, restarts))
}

/// The outcome from the best solution found: made feasible by leaving optional clients out if
/// it is not, then serving every left-out client that still fits.
fn finish(m: &Model, mut best: Solution, iterations: usize, restarts: usize) -> Outcome {
    if !best.is_feasible() {
        best = drop_until_feasible(m, best);
    }
    Outcome {
        best: serve_left_out(m, best),
        iterations,
        restarts,
    }
}

#[cfg(test)]
mod tests;
