//! Time-window segments (Vidal et al. 2013, "A hybrid genetic algorithm with adaptive
//! diversity management for a large class of vehicle routing problems with time-windows"):
//! what a sequence of visits needs to be joined to another in O(1) — its duration, time warp
//! (how much earlier than possible some visit would have to start for every window to hold),
//! and the earliest and latest start that achieve them — together with its cost and load.

use super::model::Model;

/// The place of a segment made only of breaks.
pub const NOWHERE: u32 = u32::MAX;

/// The timing summary of a sequence of visits: its duration, time warp, and the window
/// `[early, late]` in which it can start with that duration and time warp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Travel, service and waiting time inside.
    pub duration: i64,
    pub time_warp: i64,
    pub early: i64,
    pub late: i64,
}

impl Timing {
    /// Nothing at all: joined to anything it changes nothing.
    pub const NOTHING: Timing = Timing {
        duration: 0,
        time_warp: 0,
        early: i64::MIN / 4,
        late: i64::MAX / 4,
    };

    /// This timing, then `travel`, then `next` (Vidal et al. 2013, eq. 1–4).
    #[inline(always)]
    pub fn then(&self, next: &Timing, travel: i64) -> Timing {
        let delta = self.duration - self.time_warp + travel;
        let wait = (next.early - delta - self.late).max(0);
        let warp = (self.early + delta - next.late).max(0);
        Timing {
            duration: self.duration + next.duration + travel + wait,
            time_warp: self.time_warp + next.time_warp + warp,
            early: (next.early - delta).max(self.early) - wait,
            late: (next.late - delta).min(self.late) + warp,
        }
    }
}

/// A sequence of visits. Breaks have no place: a break is taken on arriving at the next place,
/// before its service (the technician drives, then pauses there). So the breaks at the end of
/// a sequence wait in `pending` until the drive to the next place is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// The first and last places (`NOWHERE` for a sequence of breaks only).
    pub first: u32,
    pub last: u32,
    /// Cost of the arcs inside.
    pub cost: i64,
    pub load: i64,
    /// How many clients of each group (one byte per group; a route holds fewer than 256 of
    /// one group).
    pub groups: u128,
    /// Up to the last place (`NOTHING` for breaks only).
    pub timing: Timing,
    /// The breaks after the last place.
    pub pending: Option<Timing>,
}

impl Segment {
    /// One client's visit.
    #[inline]
    pub fn client(m: &Model, p: usize) -> Segment {
        let c = m.client(p);
        let t = Timing {
            duration: c.service,
            time_warp: 0,
            early: c.early,
            late: c.late,
        };
        if c.placeless {
            Segment {
                first: NOWHERE,
                last: NOWHERE,
                cost: 0,
                load: c.demand,
                groups: 0,
                timing: Timing::NOTHING,
                pending: Some(t),
            }
        } else {
            Segment {
                first: p as u32,
                last: p as u32,
                cost: 0,
                load: c.demand,
                groups: 1 << (8 * c.group as u32),
                timing: t,
                pending: None,
            }
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
            groups: 0,
            timing: Timing {
                duration: 0,
                time_warp: 0,
                early: veh.early,
                late: veh.late,
            },
            pending: None,
        }
    }

    /// Clients of other groups than `g`.
    pub fn foreign(&self, g: u8) -> i64 {
        let count = |k: u32| ((self.groups >> (8 * k)) & 0xff) as i64;
        (0..16).map(count).sum::<i64>() - count(g as u32)
    }

    pub fn time_warp(&self) -> i64 {
        self.timing.time_warp + self.pending.map_or(0, |t| t.time_warp)
    }

    /// This segment followed by `next`.
    #[inline(always)]
    pub fn then(&self, m: &Model, next: &Segment) -> Segment {
        let load = self.load + next.load;
        let groups = self.groups + next.groups;
        if next.first == NOWHERE {
            let pending = match (self.pending, next.pending) {
                (Some(a), Some(b)) => Some(a.then(&b, 0)),
                (a, b) => a.or(b),
            };
            return Segment {
                load,
                groups,
                pending,
                ..*self
            };
        }
        // Breaks waiting here are taken on arriving at `next`'s first place.
        let arriving = match self.pending {
            Some(p) => p.then(&next.timing, 0),
            None => next.timing,
        };
        if self.first == NOWHERE {
            return Segment {
                load,
                groups,
                timing: arriving,
                cost: self.cost + next.cost,
                ..*next
            };
        }
        let (from, to) = (self.last as usize, next.first as usize);
        Segment {
            first: self.first,
            last: next.last,
            cost: self.cost + next.cost + m.cost(from, to),
            load,
            groups,
            timing: self.timing.then(&arriving, m.time(from, to)),
            pending: next.pending,
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
            placeless: false,
            group: 0,
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
                group: 0,
            }],
            time: cost.clone(),
            cost,
            coords: None,
            allowed: vec![],
            foreign_cost: 0,
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
        assert_eq!(route.timing.time_warp, 7);
        assert_eq!(route.cost, 40);
        assert_eq!(route.load, 2);
        // Directly to 2 first: reached at 20, still 2 late.
        let direct = Segment::depot(&m, 0, true).then(&m, &Segment::client(&m, 2));
        assert_eq!(direct.timing.time_warp, 2);
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
        let mut waiting = Segment::client(&m, 2);
        waiting.timing.early = 50;
        waiting.timing.late = 100;
        // The start moves to 25 so nobody waits at the client opening at 50: 50 long in all.
        let w = s.then(&m, &a).then(&m, &waiting).then(&m, &e);
        assert_eq!(
            (w.timing.time_warp, w.timing.duration, w.timing.early),
            (0, 50, 25)
        );
        // A vehicle that must leave at 0 waits 25 at the second client instead.
        let mut fixed = s;
        fixed.timing.late = 0;
        let w0 = fixed.then(&m, &a).then(&m, &waiting).then(&m, &e);
        assert_eq!(
            (w0.timing.time_warp, w0.timing.duration, w0.timing.early),
            (0, 75, 0)
        );
        assert_eq!(w, s.then(&m, &a.then(&m, &waiting)).then(&m, &e));
        assert_eq!(w0, fixed.then(&m, &a.then(&m, &waiting.then(&m, &e))));
    }

    #[test]
    fn breaks_join_the_same_whatever_the_grouping() {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(5);
        let mut m = line();
        // Clients 1 and 2 as before, 3 and 4 breaks with windows.
        for (early, late) in [(30, 60), (0, 40)] {
            m.clients.push(Client {
                service: 15,
                early,
                late,
                demand: 0,
                required: true,
                prize: 0,
                placeless: true,
                group: 0,
            });
        }
        let n = m.places();
        m.cost = (0..n * n).map(|k| ((k * 7) % 13) as i64).collect();
        m.time = (0..n * n).map(|k| ((k * 5) % 11) as i64).collect();
        for _ in 0..500 {
            let len = rng.gen_range(1..7);
            let mut segs = vec![Segment::depot(&m, 0, true)];
            segs.extend((0..len).map(|_| Segment::client(&m, rng.gen_range(1..5))));
            segs.push(Segment::depot(&m, 0, false));
            let left = segs[1..].iter().fold(segs[0], |a, b| a.then(&m, b));
            let right = segs[..segs.len() - 1]
                .iter()
                .rev()
                .fold(segs[segs.len() - 1], |b, a| a.then(&m, &b));
            let cut = rng.gen_range(1..segs.len());
            let head = segs[1..cut].iter().fold(segs[0], |a, b| a.then(&m, b));
            let tail = segs[cut + 1..].iter().fold(segs[cut], |a, b| a.then(&m, b));
            assert_eq!(left, right);
            assert_eq!(left, head.then(&m, &tail));
            assert_eq!(left.pending, None, "the end place takes every break");
        }
    }
}
