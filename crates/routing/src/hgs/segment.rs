//! Time-window segments (Vidal et al. 2013, "A hybrid genetic algorithm with adaptive
//! diversity management for a large class of vehicle routing problems with time-windows"):
//! what a sequence of visits needs to be joined to another in O(1) — its duration, time warp
//! (how much earlier than possible some visit would have to start for every window to hold),
//! and the earliest and latest start that achieve them — together with its cost and load.

use super::model::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub first: u32,
    pub last: u32,
    /// Cost of the arcs inside.
    pub cost: i64,
    pub load: i64,
    /// Travel, service and waiting time inside.
    pub duration: i64,
    pub time_warp: i64,
    pub early: i64,
    pub late: i64,
}

impl Segment {
    /// One client's visit.
    #[inline]
    pub fn client(m: &Model, p: usize) -> Segment {
        let c = m.client(p);
        Segment {
            first: p as u32,
            last: p as u32,
            cost: 0,
            load: c.demand,
            duration: c.service,
            time_warp: 0,
            early: c.early,
            late: c.late,
        }
    }

    /// A vehicle's start or end: open during its shift.
    #[inline]
    pub fn depot(m: &Model, v: usize, at_start: bool) -> Segment {
        let veh = &m.vehicles[v];
        let p = if at_start { veh.start } else { veh.end } as u32;
        Segment {
            first: p,
            last: p,
            cost: 0,
            load: 0,
            duration: 0,
            time_warp: 0,
            early: veh.early,
            late: veh.late,
        }
    }

    /// This segment followed by `next`.
    #[inline]
    pub fn then(&self, m: &Model, next: &Segment) -> Segment {
        let travel = m.time(self.last as usize, next.first as usize);
        let delta = self.duration - self.time_warp + travel;
        let wait = (next.early - delta - self.late).max(0);
        let warp = (self.early + delta - next.late).max(0);
        Segment {
            first: self.first,
            last: next.last,
            cost: self.cost + next.cost + m.cost(self.last as usize, next.first as usize),
            load: self.load + next.load,
            duration: self.duration + next.duration + travel + wait,
            time_warp: self.time_warp + next.time_warp + warp,
            early: (next.early - delta).max(self.early) - wait,
            late: (next.late - delta).min(self.late) + warp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hgs::model::{Client, Vehicle};

    fn line() -> Model {
        // Depot at 0, clients at 10 and 20 on a line; cost = time = distance.
        let xs = [0i64, 10, 20];
        let mut cost = vec![];
        for a in xs {
            for b in xs {
                cost.push((a - b).abs());
            }
        }
        let client = |early, late| Client {
            service: 5,
            early,
            late,
            demand: 1,
            required: true,
            prize: 0,
        };
        Model {
            depots: 1,
            clients: vec![client(0, 100), client(0, 18)],
            vehicles: vec![Vehicle {
                start: 0,
                end: 0,
                early: 0,
                late: 1000,
                capacity: 10,
                fixed_cost: 0,
            }],
            time: cost.clone(),
            cost,
            coords: None,
            allowed: vec![],
        }
    }

    #[test]
    fn a_late_visit_shows_as_time_warp() {
        let m = line();
        let route = Segment::depot(&m, 0, true)
            .then(&m, &Segment::client(&m, 1))
            .then(&m, &Segment::client(&m, 2))
            .then(&m, &Segment::depot(&m, 0, false));
        // Reach 1 at 10, leave at 15, reach 2 at 25: 7 after its window closes at 18.
        assert_eq!(route.time_warp, 7);
        assert_eq!(route.cost, 40);
        assert_eq!(route.load, 2);
        // Directly to 2 first: reached at 20, still 2 late.
        let direct = Segment::depot(&m, 0, true).then(&m, &Segment::client(&m, 2));
        assert_eq!(direct.time_warp, 2);
    }

    #[test]
    fn joining_is_associative() {
        let m = line();
        let (s, a, b, e) = (
            Segment::depot(&m, 0, true),
            Segment::client(&m, 1),
            Segment::client(&m, 2),
            Segment::depot(&m, 0, false),
        );
        let left = s.then(&m, &a).then(&m, &b).then(&m, &e);
        let right = s.then(&m, &a.then(&m, &b.then(&m, &e)));
        assert_eq!(left, right);
        let waiting = Segment {
            early: 50,
            late: 100,
            ..Segment::client(&m, 2)
        };
        // The start moves to 25 so nobody waits at the client opening at 50: 50 long in all.
        let w = s.then(&m, &a).then(&m, &waiting).then(&m, &e);
        assert_eq!((w.time_warp, w.duration, w.early), (0, 50, 25));
        // A vehicle that must leave at 0 waits 25 at the second client instead.
        let fixed = Segment { late: 0, ..s };
        let w0 = fixed.then(&m, &a).then(&m, &waiting).then(&m, &e);
        assert_eq!((w0.time_warp, w0.duration, w0.early), (0, 75, 0));
        assert_eq!(w, s.then(&m, &a.then(&m, &waiting)).then(&m, &e));
        assert_eq!(w0, fixed.then(&m, &a.then(&m, &waiting.then(&m, &e))));
    }
}
