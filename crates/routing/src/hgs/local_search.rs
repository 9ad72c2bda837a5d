//! Granular local search (Vidal et al. 2012; PyVRP's node operators): for each client U and
//! each of its nearest clients V, move or swap up to three consecutive visits from U's place
//! with up to three from V's (`Exchange(N, M)`), or swap the tails of their routes (2-opt*).
//! Every move is judged in O(1) by joining the time-window segments kept for the prefixes and
//! suffixes of each route; the first move that lowers the penalised cost is made, until none
//! does. Optional clients are inserted or taken out where that pays.

use rand::seq::SliceRandom;
use rand::Rng;

use super::model::Model;
use super::segment::{Segment, NOWHERE};
use super::solution::{Penalties, Solution, MISSING, NONE};

/// `(N, M)`: move N consecutive visits from U's place, M from V's.
const EXCHANGES: [(usize, usize); 9] = [
    (1, 0),
    (2, 0),
    (3, 0),
    (1, 1),
    (2, 1),
    (3, 1),
    (2, 2),
    (3, 2),
    (3, 3),
];

const EPS: f64 = 1e-6;

struct Route {
    v: usize,
    /// Start, the clients' places, end.
    visits: Vec<u32>,
    /// `prefix[k]`: visits `0..=k`.
    prefix: Vec<Segment>,
    /// `suffix[k]`: visits `k..` with the end.
    suffix: Vec<Segment>,
    /// `tail[k]`: clients `k..=len-2`, without the end (valid for client positions).
    tail: Vec<Segment>,
    /// Each visit alone.
    nodes: Vec<Segment>,
    cost: f64,
    /// The part of `cost` that is penalties.
    penalty: f64,
}

impl Route {
    fn clients(&self) -> usize {
        self.visits.len() - 2
    }
}

pub struct LocalSearch<'m> {
    m: &'m Model,
    /// Per client, the places of its nearest clients.
    neighbours: Vec<Vec<u32>>,
    kinds: Vec<usize>,
    routes: Vec<Route>,
    /// Per client: route and position in its visits (`NONE` route when not served).
    at: Vec<(u32, u32)>,
    pen: Penalties,
    order: Vec<u32>,
    modified: Vec<usize>,
    tested: Vec<usize>,
    /// Whether SWAP* runs, and per route when it last tried it against the others.
    swap_star: bool,
    swap_tested: Vec<usize>,
    moves: usize,
    /// Per client: whether the search looks at it (all, but in [`LocalSearch::perturb_run`]:
    /// those perturbed and those next to a move since).
    promising: Vec<bool>,
    /// Clients not yet perturbed in this run (perturbation's scratch).
    untouched: Vec<bool>,
    /// Whether every arc costs the same both ways (then a reversal is first judged by the
    /// four arcs it changes).
    symmetric: bool,
}

impl<'m> LocalSearch<'m> {
    pub fn new(m: &'m Model, neighbours: Vec<Vec<u32>>, swap_star: bool) -> Self {
        let routes = (0..m.vehicles.len())
            .map(|v| Route {
                v,
                visits: vec![],
                prefix: vec![],
                suffix: vec![],
                tail: vec![],
                nodes: vec![],
                cost: 0.0,
                penalty: 0.0,
            })
            .collect();
        let n = m.clients.len();
        LocalSearch {
            m,
            neighbours,
            kinds: m.vehicle_kinds(),
            routes,
            at: vec![(NONE, 0); n],
            pen: Penalties {
                load: 1.0,
                time_warp: 1.0,
            },
            order: (0..n as u32).map(|c| c + m.depots as u32).collect(),
            modified: vec![0; m.vehicles.len()],
            tested: vec![0; n],
            swap_star,
            swap_tested: vec![0; m.vehicles.len()],
            symmetric: {
                let p = m.places();
                (0..p).all(|a| (a + 1..p).all(|b| m.cost(a, b) == m.cost(b, a)))
            },
            moves: 0,
            promising: vec![true; n],
            untouched: vec![true; n],
        }
    }

    /// Improves `sol` under the penalties given; returns the improved solution.
    pub fn run<R: Rng>(&mut self, sol: &Solution, pen: Penalties, rng: &mut R) -> Solution {
        self.pen = pen;
        self.load(sol);
        for list in &mut self.neighbours {
            list.shuffle(rng);
        }
        self.reset_marks();
        self.promising.iter_mut().for_each(|x| *x = true);
        self.order.shuffle(rng);
        self.search(rng);
        self.export()
    }

    /// One step of PyVRP's iterated local search (Wouda et al.; PyVRP 0.14): takes `count`
    /// clients out around random ones (a client and its nearest, grouped by route; a client not
    /// served is put in instead), puts the required ones back where they cost least, and
    /// searches only around what changed.
    pub fn perturb_run<R: Rng>(
        &mut self,
        sol: &Solution,
        pen: Penalties,
        count: usize,
        rng: &mut R,
    ) -> Solution {
        self.pen = pen;
        self.load(sol);
        self.reset_marks();
        self.promising.iter_mut().for_each(|x| *x = false);
        self.untouched.iter_mut().for_each(|x| *x = true);
        self.order.shuffle(rng);
        let d = self.m.depots;
        let mut left = count;
        let mut groups: Vec<(u32, Vec<usize>)> = vec![];
        'perturb: for k in 0..self.order.len() {
            if left == 0 {
                break;
            }
            let u = self.order[k] as usize;
            groups.clear();
            for p in std::iter::once(u).chain(self.neighbours[u - d].iter().map(|&v| v as usize)) {
                if !std::mem::replace(&mut self.untouched[p - d], false) {
                    continue;
                }
                let r = self.at[p - d].0;
                match groups.iter_mut().find(|g| g.0 == r) {
                    Some(g) => g.1.push(p),
                    None => groups.push((r, vec![p])),
                }
            }
            for g in std::mem::take(&mut groups) {
                for p in g.1 {
                    if self.at[p - d].0 == NONE {
                        self.insert_at_cheapest(p);
                        self.mark(p);
                    } else {
                        self.mark(p);
                        self.take_out(p);
                    }
                    left -= 1;
                    if left == 0 {
                        break 'perturb;
                    }
                }
            }
        }
        for k in 0..self.order.len() {
            let u = self.order[k] as usize;
            if self.at[u - d].0 == NONE && self.m.client(u).required {
                self.insert_at_cheapest(u);
                self.mark(u);
            }
        }
        self.search(rng);
        self.export()
    }

    fn reset_marks(&mut self) {
        self.moves = 1;
        self.modified.iter_mut().for_each(|x| *x = 0);
        self.tested.iter_mut().for_each(|x| *x = 0);
        self.swap_tested.iter_mut().for_each(|x| *x = 0);
    }

    /// Marks client `p` and the clients before and after it for the search.
    fn mark(&mut self, p: usize) {
        let d = self.m.depots;
        self.promising[p - d] = true;
        let (r, i) = self.at[p - d];
        if r == NONE {
            return;
        }
        let visits = &self.routes[r as usize].visits;
        for q in [visits[i as usize - 1], visits[i as usize + 1]] {
            if q as usize >= d {
                self.promising[q as usize - d] = true;
            }
        }
    }

    /// Before a move between U and V: marks both with their neighbours in their routes;
    /// returns the two routes' cost.
    fn moving(&mut self, u: usize, v: usize, ru: usize, rv: usize) -> f64 {
        self.mark(u);
        self.mark(v);
        self.cost_pair(ru, rv)
    }

    /// Takes client `p` out of its route.
    fn take_out(&mut self, p: usize) {
        let (r, i) = self.at[p - self.m.depots];
        let r = r as usize;
        self.routes[r].visits.remove(i as usize);
        self.at[p - self.m.depots] = (NONE, 0);
        self.update(r);
        self.touched(r, r);
    }

    /// Puts client `p` (not served) where it costs least, whatever that costs.
    fn insert_at_cheapest(&mut self, p: usize) {
        if let Some((_, r, j)) = self.best_insertion(p) {
            self.routes[r].visits.insert(j + 1, p as u32);
            self.update(r);
            self.touched(r, r);
        }
    }

    /// Searches the promising clients until no move improves.
    fn search<R: Rng>(&mut self, rng: &mut R) {
        let mut first = true;
        loop {
            let mut improved = false;
            for k in 0..self.order.len() {
                let u = self.order[k] as usize;
                let c = u - self.m.depots;
                if !self.promising[c] {
                    continue;
                }
                if self.at[c].0 == NONE {
                    if self.insert_missing(u) {
                        self.mark(u);
                        improved = true;
                    }
                    continue;
                }
                let last = self.tested[c];
                self.tested[c] = self.moves;
                for t in 0..self.neighbours[c].len() {
                    let v = self.neighbours[c][t] as usize;
                    let cv = v - self.m.depots;
                    if self.at[cv].0 == NONE {
                        continue;
                    }
                    let (ru, rv) = (self.at[c].0 as usize, self.at[cv].0 as usize);
                    // A client not yet tried tries every neighbour; after that, only those
                    // whose routes changed since.
                    if last != 0 && self.modified[ru].max(self.modified[rv]) <= last {
                        continue;
                    }
                    if self.pair_moves(u, v) {
                        improved = true;
                        continue;
                    }
                }
                if self.remove_optional(u) || self.move_to_empty_route(u) {
                    improved = true;
                }
            }
            if self.swap_star && self.swap_star_pass(first) {
                improved = true;
            }
            first = false;
            if !improved {
                break;
            }
            self.order.shuffle(rng);
        }
    }

    fn load(&mut self, sol: &Solution) {
        let m = self.m;
        self.at.iter_mut().for_each(|a| *a = (NONE, 0));
        for v in 0..m.vehicles.len() {
            let r = &mut self.routes[v];
            r.visits.clear();
            r.visits.push(m.vehicles[v].start as u32);
            r.visits.extend_from_slice(&sol.routes[v]);
            r.visits.push(m.vehicles[v].end as u32);
            self.update(v);
        }
    }

    fn export(&self) -> Solution {
        let routes = self
            .routes
            .iter()
            .map(|r| r.visits[1..r.visits.len() - 1].to_vec())
            .collect();
        Solution::new(self.m, routes)
    }

    fn update(&mut self, ri: usize) {
        let m = self.m;
        let r = &mut self.routes[ri];
        let len = r.visits.len();
        r.nodes.clear();
        r.nodes.push(Segment::depot(m, r.v, true));
        for k in 1..len - 1 {
            r.nodes.push(Segment::client(m, r.visits[k] as usize));
        }
        r.nodes.push(Segment::depot(m, r.v, false));
        let node = |k: usize| r.nodes[k];
        r.prefix.clear();
        r.prefix.push(node(0));
        for k in 1..len {
            let s = r.prefix[k - 1].then(m, &node(k));
            r.prefix.push(s);
        }
        r.suffix.clear();
        r.suffix.resize(len, node(len - 1));
        r.tail.clear();
        r.tail.resize(len, node(len - 1));
        for k in (0..len - 1).rev() {
            r.suffix[k] = node(k).then(m, &r.suffix[k + 1]);
            if k >= 1 {
                r.tail[k] = if k == len - 2 {
                    node(k)
                } else {
                    node(k).then(m, &r.tail[k + 1])
                };
            }
        }
        let whole = r.prefix[len - 1];
        r.cost = penalised(m, &self.pen, r.v, &whole, len > 2);
        r.penalty = if len > 2 {
            r.cost - (whole.cost + m.vehicles[r.v].fixed_cost) as f64
        } else {
            0.0
        };
        for k in 1..len - 1 {
            let c = r.visits[k] as usize - m.depots;
            self.at[c] = (ri as u32, k as u32);
        }
    }

    fn touched(&mut self, a: usize, b: usize) {
        self.moves += 1;
        self.modified[a] = self.moves;
        self.modified[b] = self.moves;
    }

    #[inline]
    fn seg(&self, r: usize, k: usize) -> Segment {
        self.routes[r].nodes[k]
    }

    /// The change in arc costs alone that Exchange(N, M) would make, when every place it
    /// touches is a place (no break) and no route is emptied or started: with the two routes'
    /// penalties it bounds the move's gain, so most moves are turned down after eight
    /// lookups (Vidal et al.'s filter).
    fn arc_delta(
        &self,
        n: usize,
        k: usize,
        ru: usize,
        i: usize,
        rv: usize,
        j: usize,
    ) -> Option<i64> {
        let (r1, r2) = (&self.routes[ru], &self.routes[rv]);
        if (k == 0 && r1.clients() == n) || r2.clients() == 0 {
            return None;
        }
        if ru == rv && k > 0 && (j == i + n || j + k == i) {
            return None;
        }
        let at1 = |x: usize| r1.nodes[x].first;
        let at2 = |x: usize| r2.nodes[x].first;
        let (pu, uf, ul, su) = (at1(i - 1), at1(i), at1(i + n - 1), at1(i + n));
        let c = |a: u32, b: u32| self.m.cost(a as usize, b as usize);
        if k == 0 {
            let (v, sv) = (at2(j), at2(j + 1));
            if [pu, uf, ul, su, v, sv].contains(&NOWHERE) {
                return None;
            }
            Some(c(pu, su) - c(pu, uf) - c(ul, su) + c(v, uf) + c(ul, sv) - c(v, sv))
        } else {
            let (pv, vf, vl, sv) = (at2(j - 1), at2(j), at2(j + k - 1), at2(j + k));
            if [pu, uf, ul, su, pv, vf, vl, sv].contains(&NOWHERE) {
                return None;
            }
            Some(
                c(pu, vf) + c(vl, su) - c(pu, uf) - c(ul, su) + c(pv, uf) + c(ul, sv)
                    - c(pv, vf)
                    - c(vl, sv),
            )
        }
    }

    /// Clients `a..=b` of route `r` (None when `a > b`).
    fn span(&self, r: usize, a: usize, b: usize) -> Option<Segment> {
        if a > b {
            return None;
        }
        let mut s = self.seg(r, a);
        for k in a + 1..=b {
            s = s.then(self.m, &self.seg(r, k));
        }
        Some(s)
    }

    fn may_take(&self, r: usize, a: usize, b: usize, v: usize) -> bool {
        self.m.allowed.is_empty()
            || (a..=b).all(|k| self.m.may_serve(v, self.routes[r].visits[k] as usize))
    }

    fn cost_of(&self, r: usize, seg: &Segment, nonempty: bool) -> f64 {
        penalised(self.m, &self.pen, self.routes[r].v, seg, nonempty)
    }

    /// Tries the moves between client U and V (and V's start, when V is first); makes the
    /// first that improves.
    fn pair_moves(&mut self, u: usize, v: usize) -> bool {
        let m = self.m;
        let (ru, i) = self.at[u - m.depots];
        let (rv, j) = self.at[v - m.depots];
        let (ru, i, rv, j) = (ru as usize, i as usize, rv as usize, j as usize);
        for &(n, k) in &EXCHANGES {
            if let Some(d) = self.exchange_delta(n, k, ru, i, rv, j) {
                if d < -EPS {
                    let before = self.moving(u, v, ru, rv);
                    self.apply_exchange(n, k, ru, i, rv, j);
                    self.check_delta(before, ru, rv, d);
                    return true;
                }
            }
        }
        if ru == rv && i < j {
            if let Some(d) = self.reversal_delta(ru, i, j) {
                if d < -EPS {
                    let before = self.moving(u, v, ru, ru);
                    self.routes[ru].visits[i + 1..=j].reverse();
                    self.update(ru);
                    self.touched(ru, ru);
                    self.check_delta(before, ru, ru, d);
                    return true;
                }
            }
        }
        if ru != rv {
            if let Some(d) = self.tails_delta(ru, i, rv, j) {
                if d < -EPS {
                    let before = self.moving(u, v, ru, rv);
                    self.apply_tails(ru, i, rv, j);
                    self.check_delta(before, ru, rv, d);
                    return true;
                }
            }
        }
        if j == 1 {
            for n in 1..=3 {
                if let Some(d) = self.exchange_delta(n, 0, ru, i, rv, 0) {
                    if d < -EPS {
                        let before = self.moving(u, v, ru, rv);
                        self.apply_exchange(n, 0, ru, i, rv, 0);
                        self.check_delta(before, ru, rv, d);
                        return true;
                    }
                }
            }
            if ru != rv {
                if let Some(d) = self.tails_delta(ru, i, rv, 0) {
                    if d < -EPS {
                        let before = self.moving(u, v, ru, rv);
                        self.apply_tails(ru, i, rv, 0);
                        self.check_delta(before, ru, rv, d);
                        return true;
                    }
                }
            }
        }
        false
    }

    fn cost_pair(&self, a: usize, b: usize) -> f64 {
        self.routes[a].cost + if a == b { 0.0 } else { self.routes[b].cost }
    }

    /// In debug builds (every test): the change a move was judged by is the change it made,
    /// recomputed from the routes' visits alone.
    fn check_delta(&self, before: f64, a: usize, b: usize, predicted: f64) {
        if cfg!(debug_assertions) {
            let whole = |r: usize| {
                let route = &self.routes[r];
                let clients = &route.visits[1..route.visits.len() - 1];
                let seg = super::solution::route_segment(self.m, route.v, clients);
                penalised(self.m, &self.pen, route.v, &seg, !clients.is_empty())
            };
            let after = whole(a) + if a == b { 0.0 } else { whole(b) };
            assert!(
                (after - before - predicted).abs() < 1e-6 * (1.0 + before.abs()),
                "a move predicted {predicted} but changed the cost by {}",
                after - before
            );
        }
    }

    /// Moves U alone into an empty route of each kind, when that improves.
    fn move_to_empty_route(&mut self, u: usize) -> bool {
        let (ru, i) = self.at[u - self.m.depots];
        if ru == NONE {
            return false;
        }
        let (ru, i) = (ru as usize, i as usize);
        let mut seen_kinds: Vec<usize> = vec![];
        for r in 0..self.routes.len() {
            if r == ru {
                continue;
            }
            let places = if self.routes[r].clients() == 0 {
                if seen_kinds.contains(&self.kinds[r]) {
                    continue;
                }
                seen_kinds.push(self.kinds[r]);
                0..=0
            } else if self.only_breaks(r) {
                0..=self.routes[r].clients()
            } else {
                continue;
            };
            for j in places {
                if let Some(d) = self.exchange_delta(1, 0, ru, i, r, j) {
                    if d < -EPS {
                        self.mark(u);
                        self.apply_exchange(1, 0, ru, i, r, j);
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether route `r` serves breaks only (no place): it has no client near any other, so
    /// the moves between neighbours never reach it. It is treated as empty: a client may go
    /// anywhere among its breaks.
    fn only_breaks(&self, r: usize) -> bool {
        let v = &self.routes[r].visits;
        v.len() > 2
            && v[1..v.len() - 1]
                .iter()
                .all(|&p| self.m.client(p as usize).placeless)
    }

    /// Exchange(N, M): N visits from position `i` of route `ru` with M from position `j` of
    /// `rv` (M = 0: the N go after position `j`). None when the move is not possible.
    fn exchange_delta(
        &self,
        n: usize,
        k: usize,
        ru: usize,
        i: usize,
        rv: usize,
        j: usize,
    ) -> Option<f64> {
        let m = self.m;
        let (r1, r2) = (&self.routes[ru], &self.routes[rv]);
        if i == 0 || i + n - 1 > r1.clients() {
            return None;
        }
        if k > 0 && (j == 0 || j + k - 1 > r2.clients()) || j > r2.clients() {
            return None;
        }
        if let Some(d) = self.arc_delta(n, k, ru, i, rv, j) {
            let pen = r1.penalty + if ru == rv { 0.0 } else { r2.penalty };
            if d as f64 - pen >= -EPS {
                return None;
            }
        }
        let useg = self.span(ru, i, i + n - 1)?;
        if ru != rv {
            if !self.may_take(ru, i, i + n - 1, r2.v) {
                return None;
            }
            let (new1, new2, empty1) = if k == 0 {
                (
                    r1.prefix[i - 1].then(m, &r1.suffix[i + n]),
                    r2.prefix[j].then(m, &useg).then(m, &r2.suffix[j + 1]),
                    r1.clients() == n,
                )
            } else {
                if !self.may_take(rv, j, j + k - 1, r1.v) {
                    return None;
                }
                let vseg = self.span(rv, j, j + k - 1)?;
                (
                    r1.prefix[i - 1].then(m, &vseg).then(m, &r1.suffix[i + n]),
                    r2.prefix[j - 1].then(m, &useg).then(m, &r2.suffix[j + k]),
                    false,
                )
            };
            return Some(
                self.cost_of(ru, &new1, !empty1) + self.cost_of(rv, &new2, true)
                    - r1.cost
                    - r2.cost,
            );
        }
        let join = |a: Segment, b: Option<Segment>| match b {
            Some(b) => a.then(m, &b),
            None => a,
        };
        let new = if k == 0 {
            if j + 1 == i || (j >= i && j < i + n) {
                return None;
            }
            if j > i {
                let mid = join(r1.prefix[i - 1], self.span(ru, i + n, j));
                mid.then(m, &useg).then(m, &r1.suffix[j + 1])
            } else {
                let mid = join(r1.prefix[j].then(m, &useg), self.span(ru, j + 1, i - 1));
                mid.then(m, &r1.suffix[i + n])
            }
        } else {
            let vseg = self.span(ru, j, j + k - 1)?;
            if j >= i + n {
                let mid = join(r1.prefix[i - 1].then(m, &vseg), self.span(ru, i + n, j - 1));
                mid.then(m, &useg).then(m, &r1.suffix[j + k])
            } else if j + k <= i {
                let mid = join(r1.prefix[j - 1].then(m, &useg), self.span(ru, j + k, i - 1));
                mid.then(m, &vseg).then(m, &r1.suffix[i + n])
            } else {
                return None;
            }
        };
        Some(self.cost_of(ru, &new, true) - r1.cost)
    }

    fn apply_exchange(&mut self, n: usize, k: usize, ru: usize, i: usize, rv: usize, j: usize) {
        if ru != rv {
            let useg: Vec<u32> = self.routes[ru].visits[i..i + n].to_vec();
            if k == 0 {
                self.routes[ru].visits.drain(i..i + n);
                self.routes[rv].visits.splice(j + 1..j + 1, useg);
            } else {
                let vseg: Vec<u32> = self.routes[rv].visits[j..j + k].to_vec();
                self.routes[ru].visits.splice(i..i + n, vseg);
                self.routes[rv].visits.splice(j..j + k, useg);
            }
            self.update(ru);
            self.update(rv);
        } else {
            let old = std::mem::take(&mut self.routes[ru].visits);
            let mut new = Vec::with_capacity(old.len());
            if k == 0 {
                if j > i {
                    new.extend_from_slice(&old[..i]);
                    new.extend_from_slice(&old[i + n..=j]);
                    new.extend_from_slice(&old[i..i + n]);
                    new.extend_from_slice(&old[j + 1..]);
                } else {
                    new.extend_from_slice(&old[..=j]);
                    new.extend_from_slice(&old[i..i + n]);
                    new.extend_from_slice(&old[j + 1..i]);
                    new.extend_from_slice(&old[i + n..]);
                }
            } else if j >= i + n {
                new.extend_from_slice(&old[..i]);
                new.extend_from_slice(&old[j..j + k]);
                new.extend_from_slice(&old[i + n..j]);
                new.extend_from_slice(&old[i..i + n]);
                new.extend_from_slice(&old[j + k..]);
            } else {
                new.extend_from_slice(&old[..j]);
                new.extend_from_slice(&old[i..i + n]);
                new.extend_from_slice(&old[j + k..i]);
                new.extend_from_slice(&old[j..j + k]);
                new.extend_from_slice(&old[i + n..]);
            }
            self.routes[ru].visits = new;
            self.update(ru);
        }
        self.touched(ru, rv);
    }

    /// 2-opt within a route: U (at `i`) is followed by V (at `j > i`), the visits between
    /// reversed — the move that untangles a long route.
    fn reversal_delta(&self, r: usize, i: usize, j: usize) -> Option<f64> {
        let m = self.m;
        let route = &self.routes[r];
        if j < i + 2 || j > route.clients() {
            return None;
        }
        // Only on routes without penalties: on tight windows a reversed stretch is nearly
        // always late, and judging it costs its length.
        if route.penalty > 0.0 {
            return None;
        }
        let visits = &route.visits;
        let (u, x, v, y) = (visits[i], visits[i + 1], visits[j], visits[j + 1]);
        let place = |p: u32| (p as usize) < m.depots || !m.client(p as usize).placeless;
        if self.symmetric && [u, x, v, y].into_iter().all(place) {
            let c = |a: u32, b: u32| m.cost(a as usize, b as usize);
            let d = c(u, v) + c(x, y) - c(u, x) - c(v, y);
            if d as f64 - route.penalty >= -EPS {
                return None;
            }
        }
        let mut mid = self.seg(r, j);
        for k in (i + 1..j).rev() {
            mid = mid.then(m, &self.seg(r, k));
        }
        let new = route.prefix[i].then(m, &mid).then(m, &route.suffix[j + 1]);
        Some(self.cost_of(r, &new, true) - route.cost)
    }

    /// 2-opt*: route `ru` keeps its visits up to `i` and takes `rv`'s after `j`, and the other
    /// way round.
    fn tails_delta(&self, ru: usize, i: usize, rv: usize, j: usize) -> Option<f64> {
        let m = self.m;
        let (r1, r2) = (&self.routes[ru], &self.routes[rv]);
        let (t1, t2) = (i < r1.clients(), j < r2.clients());
        if !t1 && !t2 {
            return None;
        }
        if t2 && !self.may_take(rv, j + 1, r2.clients(), r1.v) {
            return None;
        }
        if t1 && !self.may_take(ru, i + 1, r1.clients(), r2.v) {
            return None;
        }
        let end1 = Segment::depot(m, r1.v, false);
        let end2 = Segment::depot(m, r2.v, false);
        let new1 = if t2 {
            r1.prefix[i].then(m, &r2.tail[j + 1]).then(m, &end1)
        } else {
            r1.prefix[i].then(m, &end1)
        };
        let new2 = if t1 {
            r2.prefix[j].then(m, &r1.tail[i + 1]).then(m, &end2)
        } else {
            r2.prefix[j].then(m, &end2)
        };
        let n1 = i + (r2.clients() - j);
        let n2 = j + (r1.clients() - i);
        Some(self.cost_of(ru, &new1, n1 > 0) + self.cost_of(rv, &new2, n2 > 0) - r1.cost - r2.cost)
    }

    fn apply_tails(&mut self, ru: usize, i: usize, rv: usize, j: usize) {
        let l1 = self.routes[ru].visits.len();
        let l2 = self.routes[rv].visits.len();
        let tail1: Vec<u32> = self.routes[ru].visits[i + 1..l1 - 1].to_vec();
        let tail2: Vec<u32> = self.routes[rv].visits[j + 1..l2 - 1].to_vec();
        self.routes[ru].visits.splice(i + 1..l1 - 1, tail2);
        self.routes[rv].visits.splice(j + 1..l2 - 1, tail1);
        self.update(ru);
        self.update(rv);
        self.touched(ru, rv);
    }

    /// SWAP* (Vidal 2022) over the pairs of routes whose sectors overlap and that changed
    /// since they were last tried.
    fn swap_star_pass(&mut self, first: bool) -> bool {
        let mut improved = false;
        let nr = self.routes.len();
        let sectors: Vec<Option<(f64, f64)>> = (0..nr).map(|r| self.sector(r)).collect();
        for r1 in 0..nr {
            if self.routes[r1].clients() == 0 {
                continue;
            }
            let last = self.swap_tested[r1];
            self.swap_tested[r1] = self.moves;
            for r2 in r1 + 1..nr {
                if self.routes[r2].clients() == 0
                    || (!first && self.modified[r1].max(self.modified[r2]) <= last)
                    || !overlap(sectors[r1], sectors[r2])
                {
                    continue;
                }
                if self.swap_star(r1, r2) {
                    improved = true;
                }
            }
        }
        improved
    }

    /// The polar sector (start angle, width) of a route's clients around its start.
    fn sector(&self, r: usize) -> Option<(f64, f64)> {
        let xy = self.m.coords.as_ref()?;
        let route = &self.routes[r];
        let (sx, sy) = xy[route.visits[0] as usize];
        let mut angles: Vec<f64> = route.visits[1..route.visits.len() - 1]
            .iter()
            .filter(|&&p| !self.m.client(p as usize).placeless)
            .map(|&p| {
                let (x, y) = xy[p as usize];
                (y - sy).atan2(x - sx)
            })
            .collect();
        if angles.is_empty() {
            return None;
        }
        angles.sort_by(f64::total_cmp);
        // The sector is the circle less its largest empty gap.
        let tau = std::f64::consts::TAU;
        let (mut gap, mut start) = (angles[0] + tau - angles[angles.len() - 1], angles[0]);
        for w in angles.windows(2) {
            if w[1] - w[0] > gap {
                gap = w[1] - w[0];
                start = w[1];
            }
        }
        Some((start, tau - gap))
    }

    /// Exchanges a client of `r1` with one of `r2`, each inserted at its best place in the
    /// other route (not necessarily the other's old place). Candidates are judged by removal
    /// and insertion costs computed apart, the best one exactly.
    fn swap_star(&mut self, r1: usize, r2: usize) -> bool {
        let m = self.m;
        // Best three places to insert each client of one route into the other.
        let top3 = |from: usize, into: usize| -> Vec<[(f64, usize); 3]> {
            let (a, b) = (&self.routes[from], &self.routes[into]);
            (1..=a.clients())
                .map(|i| {
                    let u = a.visits[i] as usize;
                    let mut best = [(f64::INFINITY, usize::MAX); 3];
                    if !m.may_serve(b.v, u) || m.client(u).placeless {
                        return best;
                    }
                    let seg = a.nodes[i];
                    for j in 0..=b.clients() {
                        let s = b.prefix[j].then(m, &seg).then(m, &b.suffix[j + 1]);
                        let d = self.cost_of(into, &s, true) - b.cost;
                        if d < best[2].0 {
                            best[2] = (d, j);
                            best.sort_by(|x, y| x.0.total_cmp(&y.0));
                        }
                    }
                    best
                })
                .collect()
        };
        let ins12 = top3(r1, r2);
        let ins21 = top3(r2, r1);
        let removal = |r: usize| -> Vec<f64> {
            let route = &self.routes[r];
            (1..=route.clients())
                .map(|i| {
                    let s = route.prefix[i - 1].then(m, &route.suffix[i + 1]);
                    self.cost_of(r, &s, route.clients() > 1) - route.cost
                })
                .collect()
        };
        let (rem1, rem2) = (removal(r1), removal(r2));
        let (a, b) = (&self.routes[r1], &self.routes[r2]);
        // Where `u` (position `i` of `into`'s partner) goes in `into`, `v` at position `j`
        // leaving: the best of the three not next to `v`, or `v`'s own place.
        let place =
            |into: &Route, into_r: usize, best: &[(f64, usize); 3], u_seg: &Segment, j: usize| {
                let s = into.prefix[j - 1]
                    .then(m, u_seg)
                    .then(m, &into.suffix[j + 1]);
                let mut choice = (self.cost_of(into_r, &s, true) - into.cost, j - 1, true);
                for &(d, p) in best {
                    if p != usize::MAX && p != j - 1 && p != j && d < choice.0 {
                        choice = (d, p, false);
                    }
                }
                choice
            };
        let mut best: Option<(f64, usize, usize, usize, usize)> = None;
        for i in 1..=a.clients() {
            if ins12[i - 1][0].1 == usize::MAX {
                continue;
            }
            for j in 1..=b.clients() {
                if ins21[j - 1][0].1 == usize::MAX {
                    continue;
                }
                let (du, pu, in_place_u) = place(b, r2, &ins12[i - 1], &a.nodes[i], j);
                let (dv, pv, in_place_v) = place(a, r1, &ins21[j - 1], &b.nodes[j], i);
                // Inserting in the other's place already counts its removal.
                let d = du
                    + dv
                    + if in_place_u { 0.0 } else { rem2[j - 1] }
                    + if in_place_v { 0.0 } else { rem1[i - 1] };
                if d < -EPS && best.is_none_or(|x| d < x.0) {
                    best = Some((d, i, j, pu, pv));
                }
            }
        }
        let Some((_, i, j, pu, pv)) = best else {
            return false;
        };
        // The exact change: both routes rebuilt.
        let build = |route: &Route, out: usize, inserted: u32, after: usize| -> Vec<u32> {
            let mut v = Vec::with_capacity(route.visits.len());
            for (k, &p) in route.visits.iter().enumerate() {
                if k != out {
                    v.push(p);
                }
                if k == after {
                    v.push(inserted);
                }
            }
            v
        };
        let new1 = build(a, i, b.visits[j], pv);
        let new2 = build(b, j, a.visits[i], pu);
        let cost = |r: usize, visits: &[u32]| {
            let clients = &visits[1..visits.len() - 1];
            let seg = super::solution::route_segment(m, self.routes[r].v, clients);
            penalised(m, &self.pen, self.routes[r].v, &seg, !clients.is_empty())
        };
        let before = a.cost + b.cost;
        let after = cost(r1, &new1) + cost(r2, &new2);
        if after - before < -EPS {
            self.routes[r1].visits = new1;
            self.routes[r2].visits = new2;
            self.update(r1);
            self.update(r2);
            self.touched(r1, r2);
            return true;
        }
        false
    }

    /// The cost of putting client `u` after position `j` of route `r` (None if not allowed).
    fn insert_delta(&self, u: usize, r: usize, j: usize) -> Option<f64> {
        let route = &self.routes[r];
        if !self.m.may_serve(route.v, u) {
            return None;
        }
        let s = route.prefix[j]
            .then(self.m, &Segment::client(self.m, u))
            .then(self.m, &route.suffix[j + 1]);
        Some(self.cost_of(r, &s, true) - route.cost)
    }

    /// Where client `u` (not served) costs least: after a served neighbour or before it, or
    /// alone in an empty route of each kind, or among the breaks of a route with nothing
    /// else; for a required client with none of these, anywhere at all.
    fn best_insertion(&self, u: usize) -> Option<(f64, usize, usize)> {
        let mut candidates: Vec<(usize, usize)> = vec![];
        for &v in &self.neighbours[u - self.m.depots] {
            let (rv, j) = self.at[v as usize - self.m.depots];
            if rv != NONE {
                candidates.push((rv as usize, j as usize));
                candidates.push((rv as usize, j as usize - 1));
            }
        }
        let mut seen_kinds: Vec<usize> = vec![];
        for r in 0..self.routes.len() {
            if self.routes[r].clients() == 0 && !seen_kinds.contains(&self.kinds[r]) {
                seen_kinds.push(self.kinds[r]);
                candidates.push((r, 0));
            } else if self.only_breaks(r) {
                candidates.extend((0..=self.routes[r].clients()).map(|j| (r, j)));
            }
        }
        let best = self.cheapest(u, &candidates);
        if best.is_none() && self.m.client(u).required {
            // No neighbour served and no empty route: anywhere at all.
            let all: Vec<(usize, usize)> = (0..self.routes.len())
                .flat_map(|r| (0..=self.routes[r].clients()).map(move |j| (r, j)))
                .collect();
            return self.cheapest(u, &all);
        }
        best
    }

    /// Puts a client that is not served where it costs least, if that pays (always, for a
    /// required one).
    fn insert_missing(&mut self, u: usize) -> bool {
        let c = self.m.client(u);
        let gain = if c.required { MISSING } else { c.prize as f64 };
        match self.best_insertion(u) {
            Some((d, r, j)) if d - gain < -EPS => {
                self.routes[r].visits.insert(j + 1, u as u32);
                self.update(r);
                self.touched(r, r);
                true
            }
            _ => false,
        }
    }

    fn cheapest(&self, u: usize, places: &[(usize, usize)]) -> Option<(f64, usize, usize)> {
        let mut best: Option<(f64, usize, usize)> = None;
        for &(r, j) in places {
            if let Some(d) = self.insert_delta(u, r, j) {
                if best.is_none_or(|b| d < b.0) {
                    best = Some((d, r, j));
                }
            }
        }
        best
    }

    /// Takes an optional client out when its prize is worth less than what it costs to serve.
    fn remove_optional(&mut self, u: usize) -> bool {
        let c = self.m.client(u);
        if c.required {
            return false;
        }
        let (r, i) = self.at[u - self.m.depots];
        let (r, i) = (r as usize, i as usize);
        let route = &self.routes[r];
        let s = route.prefix[i - 1].then(self.m, &route.suffix[i + 1]);
        let d = self.cost_of(r, &s, route.clients() > 1) - route.cost + c.prize as f64;
        if d < -EPS {
            self.mark(u);
            self.take_out(u);
            return true;
        }
        false
    }
}

/// Whether two polar sectors (start, width) overlap; unknown ones always do.
fn overlap(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> bool {
    let (Some((a0, wa)), Some((b0, wb))) = (a, b) else {
        return true;
    };
    let tau = std::f64::consts::TAU;
    (b0 - a0).rem_euclid(tau) <= wa || (a0 - b0).rem_euclid(tau) <= wb
}

/// A route's penalised cost: arc costs, the fixed cost when used, the cost of serving other
/// groups' clients, and penalties for load over capacity and time warp.
pub fn penalised(m: &Model, pen: &Penalties, v: usize, seg: &Segment, nonempty: bool) -> f64 {
    if !nonempty {
        return 0.0;
    }
    let veh = &m.vehicles[v];
    let foreign = if m.foreign_cost > 0 {
        m.foreign_cost * seg.foreign(veh.group)
    } else {
        0
    };
    (seg.cost + veh.fixed_cost + foreign) as f64
        + pen.load * (seg.load - veh.capacity).max(0) as f64
        + pen.time_warp * seg.time_warp() as f64
}
