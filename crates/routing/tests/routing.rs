//! Small plans checkable by hand, and one Solomon instance solved feasibly.

use chrono::{DateTime, Duration, Utc};
use shouhou_routing::solomon::{check, parse_vrp, solve};
use shouhou_routing::{plan, Job, Point, SolveOptions, Technician, TravelModel, UnassignedReason};

fn t(h: u32, m: u32) -> DateTime<Utc> {
    format!("2026-05-04T{h:02}:{m:02}:00Z").parse().unwrap()
}

fn opts() -> SolveOptions {
    SolveOptions {
        max_seconds: Some(10),
        max_generations: Some(300),
        repeatable: true,
    }
}

const DEPOT: Point = Point {
    lat: 30.27,
    lng: 120.15,
};

fn near(dlat: f64) -> Point {
    Point {
        lat: DEPOT.lat + dlat,
        lng: DEPOT.lng,
    }
}

fn tech(id: &str, skills: &[&str], from: DateTime<Utc>, to: DateTime<Utc>) -> Technician {
    Technician {
        id: id.into(),
        start: DEPOT,
        end: None,
        shift_start: from,
        shift_end: to,
        breaks: vec![],
        skills: skills.iter().map(|s| s.to_string()).collect(),
    }
}

fn job(id: &str, at: Point, minutes: i64, skill: &str) -> Job {
    Job {
        id: id.into(),
        location: at,
        service_secs: minutes * 60,
        window: None,
        skill: Some(skill.into()),
        urgent: false,
    }
}

#[test]
fn skills_decide_who_goes() {
    let techs = [
        tech("fridge", &["refrigeration"], t(0, 0), t(9, 0)),
        tech("copier", &["copier"], t(0, 0), t(9, 0)),
    ];
    let jobs = [
        job("a", near(0.01), 30, "copier"),
        job("b", near(0.02), 30, "refrigeration"),
        job("c", near(-0.01), 30, "copier"),
        job("d", near(0.0), 30, "tv_audio"),
    ];
    let p = plan(&techs, &jobs, &TravelModel::default(), &opts()).unwrap();
    let of = |id: &str| {
        p.routes
            .iter()
            .find(|r| r.technician_id == id)
            .map(|r| {
                let mut v: Vec<_> = r.stops.iter().map(|s| s.job_id.clone()).collect();
                v.sort();
                v
            })
            .unwrap_or_default()
    };
    assert_eq!(of("copier"), ["a", "c"]);
    assert_eq!(of("fridge"), ["b"]);
    assert_eq!(p.unassigned.len(), 1);
    assert_eq!(
        (p.unassigned[0].job_id.as_str(), p.unassigned[0].reason),
        ("d", UnassignedReason::NoSkill)
    );
}

#[test]
fn windows_and_shift_ends_are_respected() {
    let techs = [tech("x", &["washing"], t(1, 0), t(4, 0))];
    let mut w = job("window", near(0.02), 30, "washing");
    w.window = Some((t(3, 0), t(3, 30)));
    let mut outside = job("evening", near(0.01), 30, "washing");
    outside.window = Some((t(10, 0), t(11, 0)));
    let jobs = [
        w,
        outside,
        job("j1", near(0.01), 60, "washing"),
        job("j2", near(-0.01), 60, "washing"),
        job("j3", near(0.015), 60, "washing"),
    ];
    let p = plan(&techs, &jobs, &TravelModel::default(), &opts()).unwrap();
    let r = &p.routes[0];
    let win = r
        .stops
        .iter()
        .find(|s| s.job_id == "window")
        .expect("the window job is served");
    assert!(
        win.arrival >= t(3, 0) && win.arrival <= t(3, 30),
        "{:?}",
        win.arrival
    );
    assert!(
        r.end <= t(4, 0),
        "the day ends after the shift: {:?}",
        r.end
    );
    // 3 hours hold the window job and at most two of the hour-long jobs with travel.
    assert!(r.stops.len() <= 3);
    let reason = |id: &str| {
        p.unassigned
            .iter()
            .find(|u| u.job_id == id)
            .map(|u| u.reason)
    };
    assert_eq!(reason("evening"), Some(UnassignedReason::OutsideWindows));
    assert!(p
        .unassigned
        .iter()
        .filter(|u| u.job_id.starts_with('j'))
        .all(|u| u.reason == UnassignedReason::NoTimeLeft));
    assert_eq!(p.unassigned.len() + r.stops.len(), 5);
    // ETAs add up: each arrival is after the previous departure plus the travel.
    let mut prev = r.start;
    for s in &r.stops {
        assert!(
            s.arrival >= prev + Duration::seconds(s.travel_secs),
            "{s:?}"
        );
        assert!(s.departure - s.arrival >= Duration::minutes(30), "{s:?}");
        prev = s.departure;
    }
}

#[test]
fn urgent_jobs_are_served_first() {
    // Room for one job only: the urgent one wins though it is farther.
    let techs = [tech("x", &["tv_audio"], t(1, 0), t(2, 30))];
    let mut urgent = job("urgent", near(0.03), 60, "tv_audio");
    urgent.urgent = true;
    let jobs = [job("near", near(0.005), 60, "tv_audio"), urgent];
    let p = plan(&techs, &jobs, &TravelModel::default(), &opts()).unwrap();
    let served: Vec<&str> = p
        .routes
        .iter()
        .flat_map(|r| r.stops.iter().map(|s| s.job_id.as_str()))
        .collect();
    assert_eq!(served, ["urgent"]);
    assert_eq!(p.unassigned[0].job_id, "near");
}

#[test]
fn travel_and_onsite_minutes_are_reported() {
    let techs = [tech("x", &["washing"], t(1, 0), t(9, 0))];
    let jobs = [job("a", near(0.01), 45, "washing")];
    let p = plan(
        &techs,
        &jobs,
        &TravelModel::Estimate {
            detour: 1.3,
            speed_kmh: 25.0,
        },
        &opts(),
    )
    .unwrap();
    let r = &p.routes[0];
    assert_eq!(r.onsite_secs, 45 * 60);
    // 1.112 km × 1.3 at 25 km/h ≈ 208 s each way.
    assert!((r.travel_secs - 2 * 208).abs() <= 4, "{}", r.travel_secs);
    assert!((r.stops[0].travel_secs - 208).abs() <= 2);
}

#[test]
fn a_solomon_instance_is_solved_feasibly() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench-data/vrptw/solomon"
    );
    let Ok(text) = std::fs::read_to_string(format!("{dir}/C101.vrp")) else {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED a_solomon_instance_is_solved_feasibly: ../shared/bench-data is not beside the project");
        return;
    };
    let inst = parse_vrp(&text).unwrap();
    let routes = solve(
        &inst,
        &SolveOptions {
            max_seconds: Some(5),
            max_generations: Some(200),
            repeatable: true,
        },
    )
    .unwrap();
    let dist = check(&inst, &routes).expect("feasible");
    // The best known is 827.3; a short run is feasible and within a few percent.
    assert!(dist >= 8273, "below the best known: {dist}");
    assert!(dist as f64 <= 8273.0 * 1.10, "{dist}");
}
