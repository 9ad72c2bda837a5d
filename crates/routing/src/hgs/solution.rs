//! A solution: each vehicle's visits in order. Its cost, excess load and time warp are worked
//! out once, when it is made.

use super::model::Model;
use super::segment::Segment;

/// Weights of the two kinds of infeasibility in a penalised cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Penalties {
    pub load: f64,
    pub time_warp: f64,
}

#[derive(Debug, Clone)]
pub struct Solution {
    /// Per vehicle, the places of the clients it visits.
    pub routes: Vec<Vec<u32>>,
    /// Arc costs, fixed costs of the vehicles used, costs of serving other groups' clients, prizes of the optional clients left out.
    pub cost: i64,
    pub excess_load: i64,
    pub time_warp: i64,
    /// Required clients left out (a solution with any is never feasible).
    pub missing: usize,
    /// Per client: the place before and after it (`NONE` for a depot or when not served), for
    /// the broken-pairs distance.
    pub pred: Vec<u32>,
    pub succ: Vec<u32>,
}

pub const NONE: u32 = u32::MAX;

impl Solution {
    pub fn new(m: &Model, routes: Vec<Vec<u32>>) -> Solution {
        let n = m.clients.len();
        let (mut pred, mut succ) = (vec![NONE - 1; n], vec![NONE - 1; n]);
        let (mut cost, mut excess_load, mut time_warp) = (0, 0, 0);
        let mut served = vec![false; n];
        for (v, route) in routes.iter().enumerate() {
            if route.is_empty() {
                continue;
            }
            let seg = route_segment(m, v, route);
            cost += seg.cost
                + m.vehicles[v].fixed_cost
                + m.foreign_cost * seg.foreign(m.vehicles[v].group);
            excess_load += (seg.load - m.vehicles[v].capacity).max(0);
            time_warp += seg.time_warp();
            for (k, &p) in route.iter().enumerate() {
                let c = p as usize - m.depots;
                served[c] = true;
                pred[c] = if k == 0 { NONE } else { route[k - 1] };
                succ[c] = route.get(k + 1).copied().unwrap_or(NONE);
            }
        }
        let mut missing = 0;
        for (c, cl) in m.clients.iter().enumerate() {
            if !served[c] {
                if cl.required {
                    missing += 1;
                } else {
                    cost += cl.prize;
                }
            }
        }
        Solution {
            routes,
            cost,
            excess_load,
            time_warp,
            missing,
            pred,
            succ,
        }
    }

    pub fn is_feasible(&self) -> bool {
        self.excess_load == 0 && self.time_warp == 0 && self.missing == 0
    }

    pub fn penalised(&self, p: &Penalties) -> f64 {
        self.cost as f64
            + p.load * self.excess_load as f64
            + p.time_warp * self.time_warp as f64
            + MISSING * self.missing as f64
    }

    pub fn used_routes(&self) -> usize {
        self.routes.iter().filter(|r| !r.is_empty()).count()
    }

    /// Share of the clients whose neighbours differ between the two solutions (0 to 1).
    pub fn broken_pairs(&self, other: &Solution) -> f64 {
        let n = self.pred.len();
        if n == 0 {
            return 0.0;
        }
        let mut broken = 0;
        for c in 0..n {
            let (a, b) = (self.succ[c], self.pred[c]);
            if a != other.succ[c] && a != other.pred[c] {
                broken += 1;
            }
            if b != other.pred[c] && b != other.succ[c] {
                broken += 1;
            }
        }
        broken as f64 / (2 * n) as f64
    }
}

/// The cost of a required client left out: larger than any route could cost.
pub const MISSING: f64 = 1e12;

/// A vehicle's whole route, its start and end included.
pub fn route_segment(m: &Model, v: usize, route: &[u32]) -> Segment {
    let mut seg = Segment::depot(m, v, true);
    for &p in route {
        seg = seg.then(m, &Segment::client(m, p as usize));
    }
    seg.then(m, &Segment::depot(m, v, false))
}

/// What vehicle `v` driving `route` costs: its arcs and the other groups' clients it serves
/// (breaks have no place, so they cost nothing).
pub fn route_cost(m: &Model, v: usize, route: &[u32]) -> i64 {
    let seg = route_segment(m, v, route);
    seg.cost + m.foreign_cost * seg.foreign(m.vehicles[v].group)
}

/// `order` (places, no breaks) with vehicle `v`'s `breaks` (in their order) placed so that
/// every window and the shift hold and the route is shortest; `None` when no placement does.
pub fn place_breaks(m: &Model, v: usize, order: &[u32], breaks: &[u32]) -> Option<Vec<u32>> {
    // Depth first over the interleavings, a prefix dropped as soon as it is late somewhere
    // (lateness only grows as a route goes on).
    fn go(
        m: &Model,
        v: usize,
        order: &[u32],
        breaks: &[u32],
        prefix: Segment,
        visits: &mut Vec<u32>,
        best: &mut Option<(i64, Vec<u32>)>,
    ) {
        if prefix.time_warp() > 0 {
            return;
        }
        if order.is_empty() && breaks.is_empty() {
            let whole = prefix.then(m, &Segment::depot(m, v, false));
            if whole.time_warp() == 0 && best.as_ref().is_none_or(|b| whole.timing.duration < b.0) {
                *best = Some((whole.timing.duration, visits.clone()));
            }
            return;
        }
        for (p, rest_o, rest_b) in [
            (order.first(), order.get(1..), Some(breaks)),
            (breaks.first(), Some(order), breaks.get(1..)),
        ] {
            let (Some(&p), Some(ro), Some(rb)) = (p, rest_o, rest_b) else {
                continue;
            };
            visits.push(p);
            let next = prefix.then(m, &Segment::client(m, p as usize));
            go(m, v, ro, rb, next, visits, best);
            visits.pop();
        }
    }
    let mut best = None;
    let mut visits = Vec::with_capacity(order.len() + breaks.len());
    go(
        m,
        v,
        order,
        breaks,
        Segment::depot(m, v, true),
        &mut visits,
        &mut best,
    );
    best.map(|b| b.1)
}
