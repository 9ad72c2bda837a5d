//! Solomon VRPTW instances in VRPLIB format, solved through the same solver, and an independent
//! checker. DIMACS convention: Euclidean distances and travel times truncated to one decimal, the
//! objective is total distance with at most `VEHICLES` routes. All arithmetic here is in integer
//! tenths, so the check is exact.

use serde_json::json;
use vrp_pragmatic::format::problem::{Matrix, Problem as ApiProblem};
use vrp_pragmatic::format::solution::Stop as ApiStop;

use crate::{solve_pragmatic, RoutingError, SolveOptions};

#[derive(Debug, Clone)]
pub struct Instance {
    pub name: String,
    pub vehicles: usize,
    pub capacity: i64,
    /// Node 0 is the depot; coordinates as given.
    pub coords: Vec<(f64, f64)>,
    pub demand: Vec<i64>,
    /// Ready and due times, in tenths.
    pub windows: Vec<(i64, i64)>,
    /// Service times, in tenths.
    pub service: Vec<i64>,
}

/// Routes of customers (node numbers 1..n; the depot 0 is implied at both ends).
pub type Routes = Vec<Vec<usize>>;

fn num(s: &str, what: &str) -> Result<f64, RoutingError> {
    s.trim()
        .parse::<f64>()
        .map_err(|_| RoutingError::Input(format!("{what}: not a number: {s}")))
}

/// Parses a VRPLIB `.vrp` text.
pub fn parse_vrp(text: &str) -> Result<Instance, RoutingError> {
    let mut name = String::new();
    let (mut dim, mut vehicles, mut capacity, mut uniform_service) = (0usize, 0usize, 0i64, None);
    let mut section = "";
    let mut coords = Vec::new();
    let mut demand = Vec::new();
    let mut windows = Vec::new();
    let mut service = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some((k, v)) = line.split_once(':') {
            match k.trim() {
                "NAME" => name = v.trim().to_string(),
                "DIMENSION" => dim = num(v, "DIMENSION")? as usize,
                "VEHICLES" => vehicles = num(v, "VEHICLES")? as usize,
                "CAPACITY" => capacity = num(v, "CAPACITY")? as i64,
                "SERVICE_TIME" => uniform_service = Some(num(v, "SERVICE_TIME")?),
                _ => {}
            }
            continue;
        }
        if line.ends_with("_SECTION") || line == "EOF" {
            section = if line == "EOF" { "" } else { line };
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match section {
            "NODE_COORD_SECTION" if f.len() >= 3 => coords.push((num(f[1], "x")?, num(f[2], "y")?)),
            "DEMAND_SECTION" if f.len() >= 2 => demand.push(num(f[1], "demand")? as i64),
            "TIME_WINDOW_SECTION" if f.len() >= 3 => windows.push((
                (num(f[1], "ready")? * 10.0).round() as i64,
                (num(f[2], "due")? * 10.0).round() as i64,
            )),
            "SERVICE_TIME_SECTION" if f.len() >= 2 => {
                service.push((num(f[1], "service")? * 10.0).round() as i64)
            }
            _ => {}
        }
    }
    if service.is_empty() {
        let s = (uniform_service.unwrap_or(0.0) * 10.0).round() as i64;
        service = (0..dim).map(|i| if i == 0 { 0 } else { s }).collect();
    }
    if coords.len() != dim
        || demand.len() != dim
        || windows.len() != dim
        || service.len() != dim
        || vehicles == 0
    {
        return Err(RoutingError::Input(format!("{name}: incomplete instance")));
    }
    Ok(Instance {
        name,
        vehicles,
        capacity,
        coords,
        demand,
        windows,
        service,
    })
}

/// Parses a `.sol` text: routes (customer numbers 1..n) and the cost.
pub fn parse_sol(text: &str) -> Result<(Routes, f64), RoutingError> {
    let mut routes = Vec::new();
    let mut cost = None;
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("Route #") {
            let ids = rest.split_once(':').map(|x| x.1).unwrap_or("");
            routes.push(
                ids.split_whitespace()
                    .map(|s| s.parse::<usize>().unwrap_or(0))
                    .collect(),
            );
        } else if let Some(c) = line.trim().strip_prefix("Cost") {
            cost = Some(num(c, "Cost")?);
        }
    }
    Ok((
        routes,
        cost.ok_or_else(|| RoutingError::Input("no Cost line".into()))?,
    ))
}

impl Instance {
    /// Distance in tenths, truncated: floor(10·d).
    pub fn dist10(&self, a: usize, b: usize) -> i64 {
        let (x1, y1) = self.coords[a];
        let (x2, y2) = self.coords[b];
        ((x1 - x2).hypot(y1 - y2) * 10.0 + 1e-9).floor() as i64
    }

    pub fn customers(&self) -> usize {
        self.coords.len() - 1
    }
}

/// Checks a solution independently of the solver; returns its distance (in tenths).
pub fn check(inst: &Instance, routes: &Routes) -> Result<i64, String> {
    let n = inst.customers();
    if routes.len() > inst.vehicles {
        return Err(format!(
            "{} routes, at most {} allowed",
            routes.len(),
            inst.vehicles
        ));
    }
    let mut seen = vec![false; n + 1];
    let mut total = 0;
    for (r, route) in routes.iter().enumerate() {
        let mut load = 0;
        let mut t = inst.windows[0].0;
        let mut at = 0usize;
        for &c in route {
            if c == 0 || c > n {
                return Err(format!("route {r}: no customer {c}"));
            }
            if std::mem::replace(&mut seen[c], true) {
                return Err(format!("customer {c} served twice"));
            }
            load += inst.demand[c];
            let d = inst.dist10(at, c);
            total += d;
            t = (t + d).max(inst.windows[c].0);
            if t > inst.windows[c].1 {
                return Err(format!(
                    "route {r}: customer {c} reached at {:.1}, due {:.1}",
                    t as f64 / 10.0,
                    inst.windows[c].1 as f64 / 10.0
                ));
            }
            t += inst.service[c];
            at = c;
        }
        let d = inst.dist10(at, 0);
        total += d;
        if t + d > inst.windows[0].1 {
            return Err(format!(
                "route {r}: back at the depot at {:.1}, after it closes",
                (t + d) as f64 / 10.0
            ));
        }
        if load > inst.capacity {
            return Err(format!(
                "route {r}: load {load} over capacity {}",
                inst.capacity
            ));
        }
    }
    if let Some(c) = (1..=n).find(|c| !seen[*c]) {
        return Err(format!("customer {c} not served"));
    }
    Ok(total)
}

fn t10(v: i64) -> String {
    // Tenths are the solver's seconds: an epoch offset keeps them valid RFC 3339 times.
    chrono::DateTime::from_timestamp(v, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Solves an instance: minimise unassigned customers, then distance, with the fleet limit.
pub fn solve(inst: &Instance, opts: &SolveOptions) -> Result<Routes, RoutingError> {
    if let Some(own) = opts.search.own() {
        return solve_hgs(inst, opts, own);
    }
    let n = inst.coords.len();
    let mut dist = Vec::with_capacity(n * n);
    for a in 0..n {
        for b in 0..n {
            dist.push(inst.dist10(a, b));
        }
    }
    let jobs: Vec<serde_json::Value> = (1..n)
        .map(|c| {
            json!({
                "id": c.to_string(),
                "deliveries": [{
                    "places": [{"location": {"index": c}, "duration": inst.service[c] as f64,
                                "times": [[t10(inst.windows[c].0), t10(inst.windows[c].1)]]}],
                    "demand": [inst.demand[c]],
                }],
            })
        })
        .collect();
    let problem: ApiProblem = serde_json::from_value(json!({
        "plan": {"jobs": jobs},
        "fleet": {
            "vehicles": [{
                "typeId": "vehicle",
                "vehicleIds": (1..=inst.vehicles).map(|i| format!("v{i}")).collect::<Vec<_>>(),
                "profile": {"matrix": "euclid"},
                "costs": {"fixed": 0.0, "distance": 1.0, "time": 0.0},
                "shifts": [{
                    "start": {"earliest": t10(inst.windows[0].0), "location": {"index": 0}},
                    "end": {"latest": t10(inst.windows[0].1), "location": {"index": 0}},
                }],
                "capacity": [inst.capacity],
            }],
            "profiles": [{"name": "euclid"}],
        },
        "objectives": [{"type": "minimize-unassigned"}, {"type": "minimize-distance"}],
    }))
    .map_err(|e| RoutingError::Input(e.to_string()))?;
    let matrix = Matrix {
        profile: Some("euclid".into()),
        timestamp: None,
        travel_times: dist.clone(),
        distances: dist,
        error_codes: None,
    };
    let sol = solve_pragmatic(problem, matrix, opts)?;
    let mut routes = Vec::new();
    for tour in &sol.tours {
        let mut r = Vec::new();
        for stop in &tour.stops {
            let acts = match stop {
                ApiStop::Point(p) => &p.activities,
                ApiStop::Transit(t) => &t.activities,
            };
            for a in acts {
                if a.activity_type == "delivery" {
                    r.push(
                        a.job_id
                            .parse::<usize>()
                            .map_err(|e| RoutingError::Solver(e.to_string()))?,
                    );
                }
            }
        }
        if !r.is_empty() {
            routes.push(r);
        }
    }
    Ok(routes)
}

/// The instance as the hybrid genetic search's model: one depot, identical vehicles.
pub fn hgs_model(inst: &Instance) -> crate::hgs::Model {
    use crate::hgs::{Client, Model, Vehicle};
    let n = inst.coords.len();
    let mut cost = Vec::with_capacity(n * n);
    for a in 0..n {
        for b in 0..n {
            cost.push(inst.dist10(a, b));
        }
    }
    Model {
        depots: 1,
        clients: (1..n)
            .map(|c| Client {
                service: inst.service[c],
                early: inst.windows[c].0,
                late: inst.windows[c].1,
                demand: inst.demand[c],
                required: true,
                prize: 0,
                placeless: false,
                group: 0,
            })
            .collect(),
        vehicles: vec![
            Vehicle {
                start: 0,
                end: 0,
                early: inst.windows[0].0,
                late: inst.windows[0].1,
                capacity: inst.capacity,
                fixed_cost: 0,
                group: 0,
            };
            inst.vehicles
        ],
        time: cost.clone(),
        cost,
        coords: Some(inst.coords.clone()),
        allowed: vec![],
        foreign_cost: 0,
    }
}

fn solve_hgs(
    inst: &Instance,
    opts: &SolveOptions,
    own: crate::hgs::Params,
) -> Result<Routes, RoutingError> {
    let model = hgs_model(inst);
    let params = crate::hgs::Params {
        time_limit: if opts.repeatable {
            None
        } else {
            opts.max_seconds
                .map(|s| std::time::Duration::from_secs(s as u64))
        },
        max_iterations: if opts.repeatable {
            Some(opts.max_generations.unwrap_or(3000))
        } else {
            None
        },
        ..own
    };
    let out = crate::hgs::solve(&model, &params).map_err(RoutingError::Solver)?;
    if !out.best.is_feasible() {
        return Err(RoutingError::Solver(format!(
            "{}: no feasible solution found",
            inst.name
        )));
    }
    Ok(out
        .best
        .routes
        .into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.into_iter().map(|p| p as usize).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "NAME : T1\nDIMENSION : 4\nVEHICLES : 2\nCAPACITY : 10\nSERVICE_TIME : 1\n\
        NODE_COORD_SECTION\n1 0 0\n2 3 4\n3 6 8\n4 0 5\nDEMAND_SECTION\n1 0\n2 4\n3 4\n4 5\n\
        TIME_WINDOW_SECTION\n1 0 100\n2 0 20\n3 0 30\n4 0 50\nDEPOT_SECTION\n1\n-1\nEOF\n";

    #[test]
    fn the_checker_accepts_a_feasible_solution_and_recomputes_distance() {
        let inst = parse_vrp(TINY).unwrap();
        assert_eq!(inst.customers(), 3);
        // 0→1 (5) →2 (5) →0 (10) = 20; 0→3 (5) →0 (5) = 10.
        assert_eq!(check(&inst, &vec![vec![1, 2], vec![3]]).unwrap(), 300);
    }

    #[test]
    fn the_checker_rejects_wrong_solutions() {
        let inst = parse_vrp(TINY).unwrap();
        assert!(check(&inst, &vec![vec![1, 2]])
            .unwrap_err()
            .contains("not served"));
        assert!(check(&inst, &vec![vec![1, 2, 3]])
            .unwrap_err()
            .contains("capacity"));
        assert!(check(&inst, &vec![vec![1, 2], vec![3, 1]])
            .unwrap_err()
            .contains("twice"));
        assert!(check(&inst, &vec![vec![1], vec![2], vec![3]])
            .unwrap_err()
            .contains("routes"));
        // Customer 1 due at 8: via customer 3 it is reached at 5 + 1 + 3.1 = 9.1.
        let mut late = inst.clone();
        late.windows[1] = (0, 80);
        assert!(check(&late, &vec![vec![1], vec![3, 2]]).is_ok());
        let e = check(&late, &vec![vec![3, 1], vec![2]]).unwrap_err();
        assert!(e.contains("customer 1 reached at 9.1, due 8.0"), "{e}");
    }

    #[test]
    fn truncation_is_one_decimal_down() {
        let inst = parse_vrp(TINY).unwrap();
        // 0→(6,8)=10 exactly; 0→(3,4)=5; (3,4)→(0,5) = √10 = 3.162 → 3.1
        assert_eq!(inst.dist10(0, 2), 100);
        assert_eq!(inst.dist10(1, 3), 31);
    }

    #[test]
    fn solves_the_tiny_instance_feasibly() {
        let inst = parse_vrp(TINY).unwrap();
        let opts = SolveOptions {
            max_seconds: Some(2),
            max_generations: Some(50),
            repeatable: true,
            threads: None,
            search: Default::default(),
        };
        let routes = solve(&inst, &opts).unwrap();
        assert_eq!(check(&inst, &routes).unwrap(), 300);
    }
}
