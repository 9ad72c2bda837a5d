//! The search on small random problems checked against exhaustive enumeration, with every
//! feature on: two depots, two groups (stores) with a cost for serving the other's clients, a break, vehicles of their own start, end, shift and capacity, clients only
//! some vehicles may serve, optional clients with prizes.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::hgs::solution::route_segment;

fn random_model(seed: u64, clients: usize, vehicles: usize) -> Model {
    let mut rng = StdRng::seed_from_u64(seed);
    let depots = 2;
    let places = depots + clients;
    let xy: Vec<(f64, f64)> = (0..places)
        .map(|_| (rng.gen_range(0.0..100.0), rng.gen_range(0.0..100.0)))
        .collect();
    let mut cost = Vec::with_capacity(places * places);
    for a in 0..places {
        for b in 0..places {
            cost.push(((xy[a].0 - xy[b].0).hypot(xy[a].1 - xy[b].1) * 10.0) as i64);
        }
    }
    let horizon = 6000;
    let clients_v: Vec<Client> = (0..clients)
        .map(|_| {
            let early = rng.gen_range(0..horizon - 2000);
            Client {
                service: rng.gen_range(50..300),
                early,
                late: early + rng.gen_range(300..2500),
                demand: rng.gen_range(1..6),
                required: rng.gen_bool(0.7),
                prize: rng.gen_range(500..3000),
                placeless: false,
                group: rng.gen_range(0..2),
            }
        })
        .collect();
    let vehicles_v: Vec<Vehicle> = (0..vehicles)
        .map(|v| Vehicle {
            start: v % depots,
            end: (v + 1) % depots,
            early: 0,
            late: horizon + rng.gen_range(0..1000),
            capacity: rng.gen_range(6..14),
            fixed_cost: rng.gen_range(0..200),
            group: (v % 2) as u8,
        })
        .collect();
    // The last client is a break of vehicle 0's: no place, a window, required half the time.
    let mut clients_v = clients_v;
    let brk = clients_v.last_mut().expect("clients");
    brk.placeless = true;
    brk.required = seed.is_multiple_of(2);
    let mut allowed = vec![true; clients * vehicles];
    for v in 1..vehicles {
        allowed[(clients - 1) * vehicles + v] = false;
    }
    for c in 0..clients - 1 {
        let keep = rng.gen_range(0..vehicles);
        for v in 0..vehicles {
            if v != keep && rng.gen_bool(0.3) {
                allowed[c * vehicles + v] = false;
            }
        }
    }
    Model {
        depots,
        clients: clients_v,
        vehicles: vehicles_v,
        time: cost.clone(),
        cost,
        coords: Some(xy),
        allowed,
        foreign_cost: rng.gen_range(0..400),
    }
}

/// The cheapest feasible plan by enumerating every assignment and every order.
fn optimum(m: &Model) -> Option<i64> {
    let n = m.clients.len();
    let nv = m.vehicles.len();
    // Best cost of each vehicle serving each subset (None: infeasible).
    let mut best_route: Vec<Vec<Option<i64>>> = vec![vec![None; 1 << n]; nv];
    for (v, table) in best_route.iter_mut().enumerate() {
        for (mask, slot) in table.iter_mut().enumerate() {
            let mut members: Vec<u32> = (0..n)
                .filter(|c| mask & (1 << c) != 0)
                .map(|c| (c + m.depots) as u32)
                .collect();
            if members.iter().any(|&p| !m.may_serve(v, p as usize)) {
                continue;
            }
            if members.is_empty() {
                *slot = Some(0);
                continue;
            }
            members.sort();
            let mut best: Option<i64> = None;
            permutations(&mut members, 0, &mut |order| {
                let s = route_segment(m, v, order);
                if s.time_warp() == 0 && s.load <= m.vehicles[v].capacity {
                    let c = s.cost
                        + m.vehicles[v].fixed_cost
                        + m.foreign_cost * s.foreign(m.vehicles[v].group);
                    best = Some(best.map_or(c, |b| b.min(c)));
                }
            });
            *slot = best;
        }
    }
    // Assignments: each client to a vehicle or (when optional) to none.
    let mut best: Option<i64> = None;
    let mut choice = vec![0usize; n];
    loop {
        let mut masks = vec![0usize; nv];
        let mut total = 0;
        let mut ok = true;
        for c in 0..n {
            if choice[c] == nv {
                if m.clients[c].required {
                    ok = false;
                    break;
                }
                total += m.clients[c].prize;
            } else {
                masks[choice[c]] |= 1 << c;
            }
        }
        if ok {
            for v in 0..nv {
                match best_route[v][masks[v]] {
                    Some(c) => total += c,
                    None => ok = false,
                }
            }
            if ok {
                best = Some(best.map_or(total, |b| b.min(total)));
            }
        }
        let mut k = 0;
        loop {
            if k == n {
                return best;
            }
            choice[k] += 1;
            if choice[k] <= nv {
                break;
            }
            choice[k] = 0;
            k += 1;
        }
    }
}

fn permutations(items: &mut Vec<u32>, k: usize, f: &mut dyn FnMut(&[u32])) {
    if k == items.len() {
        f(items);
        return;
    }
    for i in k..items.len() {
        items.swap(k, i);
        permutations(items, k + 1, f);
        items.swap(k, i);
    }
}

fn params(seed: u64, iterations: usize) -> Params {
    Params {
        seed,
        time_limit: None,
        max_iterations: Some(iterations),
        initial: 10,
        ..Default::default()
    }
}

/// The iterated search, bounded by `steps` (a step costs a small share of a child).
fn iterated(seed: u64, steps: usize) -> Params {
    Params {
        seed,
        time_limit: None,
        max_iterations: Some(steps),
        ..Params::iterated()
    }
}

/// What the solution claims, recomputed from its routes: each client at most once, required
/// ones served, only by vehicles allowed to, the cost as stated.
fn assert_consistent(m: &Model, s: &Solution) {
    let mut seen = vec![false; m.clients.len()];
    let mut cost = 0;
    for (v, r) in s.routes.iter().enumerate() {
        for &p in r {
            assert!(m.may_serve(v, p as usize), "vehicle {v} may not serve {p}");
            assert!(!std::mem::replace(&mut seen[p as usize - m.depots], true));
        }
        if !r.is_empty() {
            let seg = route_segment(m, v, r);
            cost += seg.cost
                + m.vehicles[v].fixed_cost
                + m.foreign_cost * seg.foreign(m.vehicles[v].group);
        }
    }
    for (c, cl) in m.clients.iter().enumerate() {
        if !seen[c] {
            assert!(!cl.required, "required client {c} left out");
            cost += cl.prize;
        }
    }
    assert_eq!(cost, s.cost);
}

#[test]
fn finds_the_optimum_of_small_problems() {
    let mut compared = 0;
    for seed in 0..30 {
        let m = random_model(seed, 6, 3);
        let Some(best) = optimum(&m) else { continue };
        let genetic = Params {
            swap_star: seed.is_multiple_of(3),
            ..params(seed, 1000)
        };
        for p in [genetic, iterated(seed, 3000)] {
            let out = solve(&m, &p).unwrap();
            assert!(
                out.best.is_feasible(),
                "seed {seed}, {:?}: nothing feasible found",
                p.method
            );
            assert_consistent(&m, &out.best);
            assert_eq!(
                out.best.cost, best,
                "seed {seed}, {:?}: {:?}",
                p.method, out.best.routes
            );
        }
        compared += 1;
    }
    assert!(
        compared >= 15,
        "only {compared} random problems were feasible"
    );
}

#[test]
fn a_seed_gives_the_same_solution() {
    let m = random_model(7, 40, 6);
    for p in [params(3, 200), iterated(3, 2000)] {
        let a = solve(&m, &p).unwrap();
        let b = solve(&m, &p).unwrap();
        assert_eq!(a.best.routes, b.best.routes, "{:?}", p.method);
        assert_eq!(a.iterations, p.max_iterations.unwrap());
        assert_consistent(&m, &a.best);
    }
    // The genetic search with the iterated one after it (the planner's): repeatable too, and
    // never worse than the genetic search alone in the same children.
    let polished = Params {
        polish: 0.3,
        ..params(3, 200)
    };
    let a = solve(&m, &polished).unwrap();
    let b = solve(&m, &polished).unwrap();
    assert_eq!(a.best.routes, b.best.routes, "polished");
    assert_consistent(&m, &a.best);
    let genetic_part = solve(&m, &params(3, 140)).unwrap();
    assert!(a.best.is_feasible() || !genetic_part.best.is_feasible());
    if genetic_part.best.is_feasible() {
        assert!(a.best.cost <= genetic_part.best.cost);
    }
}

#[test]
fn larger_problems_stay_consistent() {
    // The local search checks each move's predicted change against a recomputation (debug
    // builds); here many moves of every kind run on problems with every feature.
    for seed in 0..4 {
        let m = random_model(100 + seed, 60, 8);
        let with_swap_star = Params {
            swap_star: seed.is_multiple_of(2),
            ..params(seed, 150)
        };
        let out = solve(&m, &with_swap_star).unwrap();
        assert_consistent(&m, &out.best);
        // The iterated search's perturbations take clients out and put them back, optional
        // ones left out where their prize does not pay.
        let out = solve(&m, &iterated(seed, 1500)).unwrap();
        assert_consistent(&m, &out.best);
    }
}

#[test]
fn an_infeasible_plan_loses_optional_clients_until_it_is_feasible() {
    let mut m = random_model(9, 30, 4);
    m.allowed.clear();
    for c in &mut m.clients {
        c.required = false;
    }
    // Everyone on the first vehicle: far over its capacity and its clients' windows.
    let all: Vec<u32> = (0..m.clients.len())
        .map(|c| (c + m.depots) as u32)
        .collect();
    let mut routes = vec![vec![]; m.vehicles.len()];
    routes[0] = all;
    let s = Solution::new(&m, routes);
    assert!(!s.is_feasible());
    let fixed = drop_until_feasible(&m, s);
    assert!(fixed.is_feasible());
    assert!(!fixed.routes[0].is_empty(), "some clients fit");
    assert!(fixed.routes[0].len() < m.clients.len());
    assert_consistent(&m, &fixed);
}
