//! Two subpopulations, feasible and infeasible solutions, each ranked by biased fitness (Vidal
//! et al. 2012): the rank by cost plus a weight times the rank by contribution to diversity
//! (mean broken-pairs distance to the closest others). When a subpopulation outgrows
//! `min + generation` solutions, the worst by that fitness go, clones first.

use rand::Rng;

use super::solution::{Penalties, Solution};

#[derive(Debug, Clone, Copy)]
pub struct PopulationParams {
    pub min_size: usize,
    pub generation: usize,
    pub elite: usize,
    pub close: usize,
}

impl Default for PopulationParams {
    fn default() -> Self {
        PopulationParams {
            min_size: 25,
            generation: 40,
            elite: 4,
            close: 5,
        }
    }
}

#[derive(Default)]
struct SubPopulation {
    members: Vec<Solution>,
    /// Broken-pairs distance between members, aligned with `members`.
    distance: Vec<Vec<f64>>,
}

impl SubPopulation {
    fn add(&mut self, s: Solution) {
        let row: Vec<f64> = self.members.iter().map(|o| s.broken_pairs(o)).collect();
        for (k, d) in row.iter().enumerate() {
            self.distance[k].push(*d);
        }
        let mut row = row;
        row.push(0.0);
        self.distance.push(row);
        self.members.push(s);
    }

    fn remove(&mut self, k: usize) {
        self.members.remove(k);
        self.distance.remove(k);
        for row in &mut self.distance {
            row.remove(k);
        }
    }

    fn diversity(&self, k: usize, close: usize) -> f64 {
        let mut d: Vec<f64> = (0..self.members.len())
            .filter(|&o| o != k)
            .map(|o| self.distance[k][o])
            .collect();
        if d.is_empty() {
            return 0.0;
        }
        let take = close.min(d.len());
        d.select_nth_unstable_by(take - 1, |a, b| a.total_cmp(b));
        d[..take].iter().sum::<f64>() / take as f64
    }

    /// Biased fitness of each member (lower is better).
    fn fitness(&self, pen: &Penalties, p: &PopulationParams) -> Vec<f64> {
        let n = self.members.len();
        if n <= 1 {
            return vec![0.0; n];
        }
        let costs: Vec<f64> = self.members.iter().map(|s| s.penalised(pen)).collect();
        let mut by_cost: Vec<usize> = (0..n).collect();
        by_cost.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
        let div: Vec<f64> = (0..n).map(|k| self.diversity(k, p.close)).collect();
        let mut by_div: Vec<usize> = (0..n).collect();
        by_div.sort_by(|&a, &b| div[b].total_cmp(&div[a]));
        let mut cost_rank = vec![0.0; n];
        let mut div_rank = vec![0.0; n];
        for (r, &k) in by_cost.iter().enumerate() {
            cost_rank[k] = r as f64 / (n - 1) as f64;
        }
        for (r, &k) in by_div.iter().enumerate() {
            div_rank[k] = r as f64 / (n - 1) as f64;
        }
        let weight = 1.0 - (p.elite as f64 / n as f64).min(1.0);
        (0..n)
            .map(|k| cost_rank[k] + weight * div_rank[k])
            .collect()
    }

    fn survivors(&mut self, pen: &Penalties, p: &PopulationParams) {
        if self.members.len() <= p.min_size + p.generation {
            return;
        }
        while self.members.len() > p.min_size {
            let clone = (0..self.members.len()).find(|&k| {
                (0..k).any(|o| {
                    self.distance[k][o] == 0.0 && self.members[k].cost == self.members[o].cost
                })
            });
            let worst = clone.unwrap_or_else(|| {
                let f = self.fitness(pen, p);
                (0..f.len())
                    .max_by(|&a, &b| f[a].total_cmp(&f[b]))
                    .expect("not empty")
            });
            self.remove(worst);
        }
    }
}

#[derive(Default)]
pub struct Population {
    feasible: SubPopulation,
    infeasible: SubPopulation,
    pub params: PopulationParams,
}

impl Population {
    pub fn new(params: PopulationParams) -> Self {
        Population {
            params,
            ..Default::default()
        }
    }

    fn len(&self) -> usize {
        self.feasible.members.len() + self.infeasible.members.len()
    }

    pub fn add(&mut self, s: Solution, pen: &Penalties) {
        let sub = if s.is_feasible() {
            &mut self.feasible
        } else {
            &mut self.infeasible
        };
        sub.add(s);
        sub.survivors(pen, &self.params);
    }

    pub fn clear(&mut self) {
        self.feasible = SubPopulation::default();
        self.infeasible = SubPopulation::default();
    }

    /// Binary tournament on biased fitness over both subpopulations.
    pub fn select<R: Rng>(&self, pen: &Penalties, rng: &mut R) -> &Solution {
        let ff = self.feasible.fitness(pen, &self.params);
        let fi = self.infeasible.fitness(pen, &self.params);
        let nf = ff.len();
        let pick = |k: usize| -> (f64, &Solution) {
            if k < nf {
                (ff[k], &self.feasible.members[k])
            } else {
                (fi[k - nf], &self.infeasible.members[k - nf])
            }
        };
        let (a, b) = (rng.gen_range(0..self.len()), rng.gen_range(0..self.len()));
        let (fa, sa) = pick(a);
        let (fb, sb) = pick(b);
        if fa <= fb {
            sa
        } else {
            sb
        }
    }

    /// Two parents, different when the population has different solutions.
    pub fn parents<R: Rng>(&self, pen: &Penalties, rng: &mut R) -> (Solution, Solution) {
        let a = self.select(pen, rng).clone();
        let mut b = self.select(pen, rng).clone();
        for _ in 0..10 {
            if b.broken_pairs(&a) > 0.0 {
                break;
            }
            b = self.select(pen, rng).clone();
        }
        (a, b)
    }
}
