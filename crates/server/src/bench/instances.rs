//! `shouhou bench vrptw-instances`: VRPTW instances larger than Solomon's 100 customers, across
//! the same six classes, written in VRPLIB format so that both shouhou and a peer solver read
//! them.
//!
//! Our own recipe after Solomon's classes (Gehring and Homberger's larger instances are not
//! here): the area grows with the square root of the customers (100 × 100 for 100, about
//! 141 × 141 for 200, 200 × 200 for 400), and the horizon's travel share with it, so a route
//! covers a similar share of the area (R and RC horizons scale with the side; C, whose time is
//! mostly service, by half as much). Classes:
//! - C: customers in tight clusters (one per ten customers, spread a fiftieth of the side)
//!   around random centres, service 90, the demand in tens (10–40);
//! - R: customers uniform over the area, service 10, demand 1–50;
//! - RC: half clustered, half uniform, service 10, demand 1–50.
//!
//! Type 1 has a short horizon (few customers a route: C1 1236, R1 230, RC1 240 at 100
//! customers) and capacity 200; type 2 a long one (C2 3390, R2 1000, RC2 960) and capacity 700
//! (C2) or 1000. Of the customers, a share (type 1: 3 in 4, type 2: 1 in 2) get a time window
//! around a random time each can be reached at (type 1: 10–60 wide, type 2: 120–480, in units
//! of the 100-customer area); the others may be served any time in the horizon. Every customer
//! can be served alone by a route from the depot and back in time, and the fleet is as large
//! as the customers (as Solomon's 25 vehicles for 100, it does not bind), so every instance has
//! a feasible solution; the objective is the distance. No best
//! known solution exists for these: a gap is read against the best of the solvers run.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt::Write as _;

/// The six classes, in Solomon's names.
pub const CLASSES: [&str; 6] = ["C1", "C2", "R1", "R2", "RC1", "RC2"];

/// One instance of `class` (one of [`CLASSES`]) with `customers` customers, in VRPLIB text;
/// the same `seed` gives the same instance.
pub fn generate(class: &str, customers: usize, seed: u64, name: &str) -> anyhow::Result<String> {
    let (kind, long) = match class {
        "C1" => ('C', false),
        "C2" => ('C', true),
        "R1" => ('R', false),
        "R2" => ('R', true),
        "RC1" => ('M', false),
        "RC2" => ('M', true),
        _ => anyhow::bail!("unknown class {class}: one of {}", CLASSES.join(", ")),
    };
    if customers < 10 {
        anyhow::bail!("at least 10 customers");
    }
    let mut rng = StdRng::seed_from_u64(seed);
    // The area and the horizon grow with the square root of the customers.
    let scale = (customers as f64 / 100.0).sqrt();
    let side = (100.0 * scale).round();
    let base_horizon = match (kind, long) {
        ('C', false) => 1236.0,
        ('C', true) => 3390.0,
        ('R', false) => 230.0,
        ('R', true) => 1000.0,
        (_, false) => 240.0,
        (_, true) => 960.0,
    };
    // Clustered classes spend most of a route's time in service (90 a customer), which does
    // not grow with the area: only their travel share scales.
    let horizon = if kind == 'C' {
        (base_horizon * (0.5 + 0.5 * scale)).round()
    } else {
        (base_horizon * scale).round()
    };
    let service = if kind == 'C' { 90.0 } else { 10.0 };
    let capacity = match (kind, long) {
        (_, false) => 200,
        ('C', true) => 700,
        (_, true) => 1000,
    };
    let depot = ((side / 2.0).round(), (side / 2.0).round());
    let clustered = match kind {
        'C' => customers,
        'R' => 0,
        _ => customers / 2,
    };
    let centres: Vec<(f64, f64)> = (0..(clustered / 10).max(1))
        .map(|_| {
            (
                rng.gen_range(0.1 * side..0.9 * side),
                rng.gen_range(0.1 * side..0.9 * side),
            )
        })
        .collect();
    let spread = side / 50.0;
    let mut coords = vec![depot];
    for i in 0..customers {
        let p = if i < clustered {
            let (cx, cy) = centres[i % centres.len()];
            // A normal offset (Box–Muller) around the centre, kept inside the area.
            let (u, v): (f64, f64) = (rng.gen_range(1e-9..1.0), rng.gen_range(0.0..1.0));
            let r = spread * (-2.0 * u.ln()).sqrt();
            let a = std::f64::consts::TAU * v;
            (
                (cx + r * a.cos()).round().clamp(0.0, side),
                (cy + r * a.sin()).round().clamp(0.0, side),
            )
        } else {
            (
                rng.gen_range(0.0..=side).round(),
                rng.gen_range(0.0..=side).round(),
            )
        };
        coords.push(p);
    }
    let dist = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
    let windowed = if long { 0.5 } else { 0.75 };
    let (narrow, wide) = if long { (120.0, 480.0) } else { (10.0, 60.0) };
    let mut out = String::new();
    writeln!(out, "NAME : {name}")?;
    writeln!(
        out,
        "COMMENT : shouhou bench vrptw-instances, class {class}, seed {seed}"
    )?;
    writeln!(out, "TYPE : CVRPTW")?;
    writeln!(out, "DIMENSION : {}", customers + 1)?;
    writeln!(out, "VEHICLES : {customers}")?;
    writeln!(out, "CAPACITY : {capacity}")?;
    writeln!(out, "SERVICE_TIME : {service}")?;
    writeln!(out, "EDGE_WEIGHT_TYPE : EUC_2D")?;
    writeln!(out, "NODE_COORD_SECTION")?;
    for (i, (x, y)) in coords.iter().enumerate() {
        writeln!(out, "{} {x} {y}", i + 1)?;
    }
    writeln!(out, "DEMAND_SECTION")?;
    writeln!(out, "1 0")?;
    for i in 1..=customers {
        let d = if kind == 'C' {
            10 * rng.gen_range(1..=4)
        } else {
            rng.gen_range(1..=50)
        };
        writeln!(out, "{} {d}", i + 1)?;
    }
    writeln!(out, "TIME_WINDOW_SECTION")?;
    writeln!(out, "1 0 {horizon}")?;
    for (i, &p) in coords.iter().enumerate().skip(1) {
        // Integer times, as Solomon's: reachable from the depot at `earliest` (rounded up),
        // back at the depot by the horizon when served by `latest` (rounded down).
        let there = dist(depot, p);
        let earliest = there.ceil();
        let latest = (horizon - service - there).floor();
        let (ready, due) = if rng.gen_bool(windowed) && latest > earliest {
            let centre = rng.gen_range(earliest..=latest);
            let half = rng.gen_range(narrow..=wide) * scale / 2.0;
            (
                (centre - half).max(earliest).floor(),
                (centre + half).min(latest).floor().max(earliest),
            )
        } else {
            (0.0, latest.max(earliest))
        };
        writeln!(out, "{} {ready} {due}", i + 1)?;
    }
    writeln!(out, "DEPOT_SECTION")?;
    writeln!(out, "1")?;
    writeln!(out, "-1")?;
    writeln!(out, "EOF")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shouhou_routing::solomon::{check, parse_vrp};

    #[test]
    fn every_class_parses_and_each_customer_alone_is_a_feasible_route() {
        for class in CLASSES {
            for n in [200, 400] {
                let text = generate(class, n, 7, "T").unwrap();
                let inst = parse_vrp(&text).unwrap();
                assert_eq!(inst.customers(), n, "{class}");
                assert_eq!(inst.vehicles, n);
                // Each customer served alone from the depot and back: the checker accepts it.
                for c in 1..=n {
                    check(&only(&inst, c), &vec![vec![1]])
                        .unwrap_or_else(|e| panic!("{class} {n}: customer {c} alone: {e}"));
                }
            }
        }
        assert_eq!(
            generate("R1", 200, 3, "x").unwrap(),
            generate("R1", 200, 3, "x").unwrap(),
            "a seed gives the same instance"
        );
        assert_ne!(
            generate("R1", 200, 3, "x").unwrap(),
            generate("R1", 200, 4, "x").unwrap()
        );
        assert!(generate("X9", 200, 1, "x").is_err());
    }

    #[test]
    fn clustered_customers_lie_closer_together_than_uniform_ones() {
        let nearest = |class: &str| {
            let inst = parse_vrp(&generate(class, 400, 11, "T").unwrap()).unwrap();
            let n = inst.customers();
            (1..=n)
                .map(|i| {
                    (1..=n)
                        .filter(|&j| j != i)
                        .map(|j| inst.dist10(i, j))
                        .min()
                        .unwrap()
                })
                .sum::<i64>() as f64
                / n as f64
        };
        let (c, r, rc) = (nearest("C1"), nearest("R1"), nearest("RC1"));
        assert!(c * 1.5 < r, "C1 {c} against R1 {r}");
        assert!(rc < r, "RC1 {rc} against R1 {r}");
    }

    /// The instance with only customer `c` (as customer 1).
    fn only(
        inst: &shouhou_routing::solomon::Instance,
        c: usize,
    ) -> shouhou_routing::solomon::Instance {
        let mut one = inst.clone();
        one.coords = vec![inst.coords[0], inst.coords[c]];
        one.demand = vec![0, inst.demand[c]];
        one.windows = vec![inst.windows[0], inst.windows[c]];
        one.service = vec![inst.service[0], inst.service[c]];
        one.vehicles = 1;
        one
    }
}
