//! A simulated-annealing acceptance for vrp-core's search, plugged in through rosomaxa's
//! `HeuristicPopulation` trait.
//!
//! vrp-core's populations keep the best solutions found (greedy, elitism) or a map of diverse
//! ones (rosomaxa); on one core with a budget of seconds the first gets stuck in the first local
//! optimum and the second spends most of the time exploring. This population keeps one
//! *current* solution the search works from and the best seen. A new solution replaces the
//! current one when it is better, or worse by less than `−T·ln(u)` (u uniform in (0, 1]), the
//! acceptance rule of simulated annealing as used with ruin-and-recreate by Christiaens and
//! Vanden Berghe's SISR. The temperature falls geometrically over the run (the solver's
//! termination estimate) from `start` to `end`, both a share of the best cost, so the same
//! setting serves any scale of distances. Only the last fitness value (the cost) is annealed;
//! the levels before it (unassigned jobs) must not get worse. When the best has not improved
//! for `restart_after` generations the search goes back to it.
//!
//! The ruin, recreate and local-search operators are all vrp-core's own.

use std::cmp::Ordering;
use std::sync::Arc;

use vrp_core::rosomaxa::population::{HeuristicPopulation, SelectionPhase};
use vrp_core::rosomaxa::prelude::{
    HeuristicObjective, HeuristicSolution, HeuristicStatistics, Random,
};

/// Temperatures as shares of the best cost at the start and at the end of the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub start: f64,
    pub end: f64,
    /// Go back to the best solution after this many generations without a new best (0: never).
    pub restart_after: usize,
}

impl Default for Schedule {
    /// 3 % of the best cost falling to 0.1 %, back to the best after 1,000 generations without
    /// a new one (about 0.7 s on one core): the best of the schedules tried on the Solomon
    /// instances at 10 s on one core (docs/BENCHMARKS.md).
    fn default() -> Self {
        Schedule {
            start: 0.03,
            end: 0.001,
            restart_after: 1000,
        }
    }
}

pub struct Annealing<O, S>
where
    O: HeuristicObjective<Solution = S>,
    S: HeuristicSolution,
{
    objective: Arc<O>,
    random: Arc<dyn Random>,
    schedule: Schedule,
    /// Progress of the run in [0, 1].
    progress: f64,
    current: Option<S>,
    best: Option<S>,
    /// Generations since the best last improved.
    stale: usize,
}

impl<O, S> Annealing<O, S>
where
    O: HeuristicObjective<Solution = S>,
    S: HeuristicSolution,
{
    pub fn new(objective: Arc<O>, random: Arc<dyn Random>, schedule: Schedule) -> Self {
        Annealing {
            objective,
            random,
            schedule,
            progress: 0.0,
            current: None,
            best: None,
            stale: 0,
        }
    }

    /// The temperature now, in units of cost.
    pub fn temperature(&self) -> f64 {
        let cost = self
            .best
            .as_ref()
            .and_then(|b| b.fitness().last())
            .unwrap_or(0.0)
            .abs();
        let Schedule { start, end, .. } = self.schedule;
        let share = start * (end / start).powf(self.progress.clamp(0.0, 1.0));
        cost * share
    }

    /// Whether `candidate` may replace `current` at temperature `t`.
    fn accepts(&self, current: &S, candidate: &S, t: f64) -> bool {
        if self.objective.total_order(candidate, current) != Ordering::Greater {
            return true;
        }
        let a: Vec<f64> = current.fitness().collect();
        let b: Vec<f64> = candidate.fitness().collect();
        let n = a.len().min(b.len());
        if n == 0 || a[..n - 1] != b[..n - 1] {
            // Worse on a level above cost (more unassigned jobs): never accepted.
            return false;
        }
        let u = self.random.uniform_real(f64::MIN_POSITIVE, 1.0);
        b[n - 1] < a[n - 1] - t * u.ln()
    }
}

impl<O, S> HeuristicPopulation for Annealing<O, S>
where
    O: HeuristicObjective<Solution = S>,
    S: HeuristicSolution,
{
    type Objective = O;
    type Individual = S;

    fn add_all(&mut self, individuals: Vec<S>) -> bool {
        // Every individual is offered (no short circuit on the first best).
        let mut any_best = false;
        for individual in individuals {
            any_best |= self.add(individual);
        }
        any_best
    }

    fn add(&mut self, individual: S) -> bool {
        let is_best = self
            .best
            .as_ref()
            .is_none_or(|best| self.objective.total_order(&individual, best) == Ordering::Less);
        if is_best {
            self.best = Some(individual.deep_copy());
            self.stale = 0;
        }
        let t = self.temperature();
        let accept = match &self.current {
            None => true,
            Some(current) => is_best || self.accepts(current, &individual, t),
        };
        if accept {
            self.current = Some(individual);
        }
        is_best
    }

    fn on_generation(&mut self, statistics: &HeuristicStatistics) {
        self.progress = statistics.termination_estimate;
        self.stale += 1;
        let restart = self.schedule.restart_after;
        if restart > 0 && self.stale >= restart {
            self.stale = 0;
            self.current = self.best.as_ref().map(|b| b.deep_copy());
        }
    }

    fn cmp(&self, a: &S, b: &S) -> Ordering {
        self.objective.total_order(a, b)
    }

    fn select<'a>(&'a self) -> Box<dyn Iterator<Item = &'a S> + 'a> {
        Box::new(self.current.iter())
    }

    fn ranked<'a>(&'a self) -> Box<dyn Iterator<Item = &'a S> + 'a> {
        Box::new(self.best.iter())
    }

    fn all<'a>(&'a self) -> Box<dyn Iterator<Item = &'a S> + 'a> {
        Box::new(self.best.iter().chain(self.current.iter()))
    }

    fn size(&self) -> usize {
        self.all().count()
    }

    fn selection_phase(&self) -> SelectionPhase {
        SelectionPhase::Exploitation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrp_core::rosomaxa::prelude::DefaultRandom;

    /// A solution that is only its fitness: (unassigned, cost).
    #[derive(Debug, Clone, PartialEq)]
    struct Toy(Vec<f64>);

    impl HeuristicSolution for Toy {
        fn fitness(&self) -> impl Iterator<Item = f64> {
            self.0.clone().into_iter()
        }
        fn deep_copy(&self) -> Self {
            self.clone()
        }
    }

    struct Lexicographic;

    impl HeuristicObjective for Lexicographic {
        type Solution = Toy;
        fn total_order(&self, a: &Toy, b: &Toy) -> Ordering {
            a.0.partial_cmp(&b.0).unwrap()
        }
    }

    fn population(start: f64, end: f64) -> Annealing<Lexicographic, Toy> {
        Annealing::new(
            Arc::new(Lexicographic),
            Arc::new(DefaultRandom::new_repeatable()),
            Schedule {
                start,
                end,
                restart_after: 0,
            },
        )
    }

    fn current(p: &Annealing<Lexicographic, Toy>) -> Toy {
        p.select().next().unwrap().clone()
    }

    fn best(p: &Annealing<Lexicographic, Toy>) -> Toy {
        p.ranked().next().unwrap().clone()
    }

    fn at(p: &mut Annealing<Lexicographic, Toy>, progress: f64) {
        p.on_generation(&HeuristicStatistics {
            termination_estimate: progress,
            ..HeuristicStatistics::default()
        });
    }

    #[test]
    fn a_better_solution_becomes_current_and_best() {
        let mut p = population(0.01, 0.0001);
        assert!(p.add(Toy(vec![0.0, 1000.0])));
        assert!(p.add(Toy(vec![0.0, 900.0])));
        assert!(!p.add(Toy(vec![0.0, 950.0])));
        assert_eq!(best(&p), Toy(vec![0.0, 900.0]));
        assert_eq!(p.size(), 2);
    }

    #[test]
    fn more_unassigned_jobs_are_never_accepted_however_hot() {
        let mut p = population(10.0, 10.0);
        p.add(Toy(vec![0.0, 1000.0]));
        for _ in 0..200 {
            assert!(!p.add(Toy(vec![1.0, 10.0])));
        }
        assert_eq!(current(&p), Toy(vec![0.0, 1000.0]));
    }

    #[test]
    fn a_hot_search_accepts_worse_costs_and_keeps_the_best() {
        // T = 10 × 1000: a solution 1 worse passes with probability e^(−1/10000).
        let mut p = population(10.0, 10.0);
        p.add(Toy(vec![0.0, 1000.0]));
        assert!(!p.add(Toy(vec![0.0, 1001.0])));
        assert_eq!(current(&p), Toy(vec![0.0, 1001.0]));
        assert_eq!(best(&p), Toy(vec![0.0, 1000.0]));
    }

    #[test]
    fn a_cold_search_rejects_worse_costs() {
        let mut p = population(1e-9, 1e-9);
        p.add(Toy(vec![0.0, 1000.0]));
        for _ in 0..200 {
            p.add(Toy(vec![0.0, 1001.0]));
        }
        assert_eq!(current(&p), Toy(vec![0.0, 1000.0]));
    }

    #[test]
    fn a_stale_search_goes_back_to_the_best() {
        let mut p = population(10.0, 10.0);
        p.schedule.restart_after = 3;
        p.add(Toy(vec![0.0, 1000.0]));
        p.add(Toy(vec![0.0, 1001.0]));
        assert_eq!(current(&p), Toy(vec![0.0, 1001.0]));
        at(&mut p, 0.1);
        at(&mut p, 0.2);
        assert_eq!(current(&p), Toy(vec![0.0, 1001.0]));
        at(&mut p, 0.3);
        assert_eq!(current(&p), Toy(vec![0.0, 1000.0]));
    }

    #[test]
    fn the_temperature_falls_geometrically_with_progress() {
        let mut p = population(0.01, 0.0001);
        p.add(Toy(vec![0.0, 1000.0]));
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(p.temperature(), 10.0));
        at(&mut p, 0.5);
        assert!(close(p.temperature(), 1.0));
        at(&mut p, 1.0);
        assert!(close(p.temperature(), 0.1));
    }
}
