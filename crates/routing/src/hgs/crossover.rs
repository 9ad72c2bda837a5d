//! Selective route exchange (Nagata and Kobayashi 2010, as PyVRP uses it): a run of adjacent
//! routes of one parent replaces a run of the other's that shares the most clients with it;
//! clients left twice are taken out of one side, those left out are put back by cheapest
//! insertion. Of the two ways to resolve the duplicates the cheaper child is kept.

use rand::seq::SliceRandom;
use rand::Rng;

use super::local_search::penalised;
use super::model::Model;
use super::segment::Segment;
use super::solution::{route_segment, Penalties, Solution};

/// Non-empty routes as (vehicle, visits), ordered by the polar angle of their centroid around
/// their start when coordinates are known.
fn ordered_routes(m: &Model, s: &Solution) -> Vec<(usize, Vec<u32>)> {
    let mut routes: Vec<(f64, usize, Vec<u32>)> = s
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_empty())
        .map(|(v, r)| {
            let angle = m.coords.as_ref().map_or(0.0, |xy| {
                let (sx, sy) = xy[m.vehicles[v].start];
                let (cx, cy) = r.iter().fold((0.0, 0.0), |(a, b), &p| {
                    (a + xy[p as usize].0, b + xy[p as usize].1)
                });
                let k = r.len() as f64;
                (cy / k - sy).atan2(cx / k - sx)
            });
            (angle, v, r.clone())
        })
        .collect();
    routes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    routes.into_iter().map(|(_, v, r)| (v, r)).collect()
}

pub fn srex<R: Rng>(
    m: &Model,
    a: &Solution,
    b: &Solution,
    pen: &Penalties,
    kinds: &[usize],
    rng: &mut R,
) -> Solution {
    let (ra, rb) = (ordered_routes(m, a), ordered_routes(m, b));
    let (na, nb) = (ra.len(), rb.len());
    if na == 0 || nb == 0 {
        return a.clone();
    }
    let moved = rng.gen_range(1..=na.min(nb));
    let start_a = rng.gen_range(0..na);
    let mut start_b = if start_a < nb { start_a } else { 0 };
    let n = m.clients.len();
    let members = |routes: &[(usize, Vec<u32>)], start: usize| {
        let mut set = vec![false; n];
        for k in 0..moved {
            for &p in &routes[(start + k) % routes.len()].1 {
                set[p as usize - m.depots] = true;
            }
        }
        set
    };
    let in_a = members(&ra, start_a);
    let differ = |start: usize| {
        let in_b = members(&rb, start);
        in_a.iter().zip(&in_b).filter(|(x, y)| x != y).count()
    };
    // Slide B's run to where it shares the most with A's.
    let mut best = differ(start_b);
    for step in [1, nb - 1] {
        loop {
            let next = (start_b + step) % nb;
            let d = differ(next);
            if d < best && next != start_b {
                best = d;
                start_b = next;
            } else {
                break;
            }
        }
    }
    let in_b = members(&rb, start_b);
    let selected_a: Vec<usize> = (0..moved).map(|k| (start_a + k) % na).collect();
    let selected_b: Vec<usize> = (0..moved).map(|k| (start_b + k) % nb).collect();

    let mut children = Vec::with_capacity(2);
    for keep_b_whole in [false, true] {
        let mut routes: Vec<Vec<u32>> = vec![vec![]; m.vehicles.len()];
        let mut used = vec![false; m.vehicles.len()];
        for (k, (v, r)) in ra.iter().enumerate() {
            if selected_a.contains(&k) {
                continue;
            }
            routes[*v] = r
                .iter()
                .copied()
                .filter(|&p| !keep_b_whole || !in_b[p as usize - m.depots])
                .collect();
            used[*v] = true;
        }
        let mut missing = vec![];
        for &k in &selected_b {
            let (vb, r) = &rb[k];
            let r: Vec<u32> = r
                .iter()
                .copied()
                .filter(|&p| keep_b_whole || in_a[p as usize - m.depots])
                .collect();
            let free = |w: usize| !used[w] && r.iter().all(|&p| m.may_serve(w, p as usize));
            let target = if free(*vb) {
                Some(*vb)
            } else {
                (0..m.vehicles.len())
                    .filter(|&w| free(w))
                    .min_by_key(|&w| (kinds[w] != kinds[*vb], w))
            };
            match target {
                Some(w) => {
                    routes[w] = r;
                    used[w] = true;
                }
                None => missing.extend(r),
            }
        }
        let mut served = vec![false; n];
        for r in &routes {
            for &p in r {
                served[p as usize - m.depots] = true;
            }
        }
        // Clients of A's run that B's run does not have (and any not placed above).
        missing.retain(|&p| !served[p as usize - m.depots]);
        for (c, &s) in served.iter().enumerate() {
            let p = (c + m.depots) as u32;
            if !s && (in_a[c] || in_b[c]) && !missing.contains(&p) {
                missing.push(p);
            }
        }
        missing.shuffle(rng);
        repair(m, &mut routes, &missing, pen, kinds);
        children.push(Solution::new(m, routes));
    }
    let second = children.pop().expect("two children");
    let first = children.pop().expect("two children");
    if second.penalised(pen) < first.penalised(pen) {
        second
    } else {
        first
    }
}

/// Inserts each client where it raises the penalised cost least (an empty route of each kind
/// included).
pub fn repair(
    m: &Model,
    routes: &mut [Vec<u32>],
    missing: &[u32],
    pen: &Penalties,
    kinds: &[usize],
) {
    let mut prefix: Vec<Vec<Segment>> = vec![];
    let mut suffix: Vec<Vec<Segment>> = vec![];
    let mut costs: Vec<f64> = vec![];
    let build = |v: usize, r: &[u32]| -> (Vec<Segment>, Vec<Segment>, f64) {
        let mut nodes = vec![Segment::depot(m, v, true)];
        nodes.extend(r.iter().map(|&p| Segment::client(m, p as usize)));
        nodes.push(Segment::depot(m, v, false));
        let mut pre = vec![nodes[0]];
        for s in &nodes[1..] {
            let next = pre[pre.len() - 1].then(m, s);
            pre.push(next);
        }
        let mut suf = nodes.clone();
        for k in (0..nodes.len() - 1).rev() {
            suf[k] = nodes[k].then(m, &suf[k + 1]);
        }
        let cost = penalised(m, pen, v, &route_segment(m, v, r), !r.is_empty());
        (pre, suf, cost)
    };
    for (v, r) in routes.iter().enumerate() {
        let (p, s, c) = build(v, r);
        prefix.push(p);
        suffix.push(s);
        costs.push(c);
    }
    for &p in missing {
        let seg = Segment::client(m, p as usize);
        let mut best: Option<(f64, usize, usize)> = None;
        let mut empty_kinds: Vec<usize> = vec![];
        for v in 0..routes.len() {
            if !m.may_serve(v, p as usize) {
                continue;
            }
            if routes[v].is_empty() {
                if empty_kinds.contains(&kinds[v]) {
                    continue;
                }
                empty_kinds.push(kinds[v]);
            }
            for j in 0..=routes[v].len() {
                let s = prefix[v][j].then(m, &seg).then(m, &suffix[v][j + 1]);
                let d = penalised(m, pen, v, &s, true) - costs[v];
                if best.is_none_or(|b| d < b.0) {
                    best = Some((d, v, j));
                }
            }
        }
        if let Some((_, v, j)) = best {
            routes[v].insert(j, p);
            let (pre, suf, c) = build(v, &routes[v]);
            prefix[v] = pre;
            suffix[v] = suf;
            costs[v] = c;
        }
    }
}
