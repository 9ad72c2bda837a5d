//! The technicians' days. A job is booked on the day the customer wants (or the first day after
//! with room) with the technician of the store who has the skill, a shift and the least work that
//! day — another store's technician when nobody local is free for urgent work; then each day is
//! driven job by job (the earliest deadline among the jobs that can be reached, travel from the
//! last site, a lunch break) inside the shift; a jam on the road or a job that overruns (more
//! often with a young crew) makes the next appointments late. Jobs that do not fit any more are
//! handed back to be booked again. The installation partner takes any number of installs in the
//! booked window.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use shouhou_domain::Category;

use super::demand::Want;
use super::org::{Org, Tech, AHEAD};
use super::Calendar;

#[derive(Debug, Clone)]
pub struct Job {
    pub order: usize,
    pub store: i64,
    pub category: Category,
    pub lat: f64,
    pub lng: f64,
    /// Time on site at the crew's pace.
    pub minutes: i64,
    /// Not to leave before this (the technician has accepted the order by then).
    pub start: DateTime<Utc>,
    /// Not to arrive before this.
    pub ready: DateTime<Utc>,
    /// To arrive by this (the window's end or the SLA's arrive-by).
    pub due: DateTime<Utc>,
    /// Goes before the others that can be reached.
    pub urgent: bool,
}

/// Where a job was booked: a technician (none: the partner), a day index, a window.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub tech: Option<usize>,
    pub day: i64,
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A job done: technician, times, its place in the technician's day.
pub struct Done {
    pub job: Job,
    pub tech: Option<usize>,
    pub departed: DateTime<Utc>,
    pub arrived: DateTime<Utc>,
    pub left: DateTime<Utc>,
    pub seq: i64,
}

pub struct Board {
    /// Booked jobs by day and technician.
    jobs: Vec<Vec<Vec<Job>>>,
    /// Booked minutes (on site and travel) by day and technician.
    load: Vec<Vec<i64>>,
    /// Booked appointments by day, technician and window.
    windows: Vec<Vec<[u8; 2]>>,
    partner: Vec<Vec<Job>>,
}

/// Minutes a job takes technician `t`: on site at their pace, the drive there, the paperwork.
fn need(job: &Job, t: &Tech) -> i64 {
    (job.minutes as f64 * t.speed + 22.0 * t.travel) as i64 + 12
}

/// Driving minutes between two points (great circle × 1.3 at 25 km/h, plus parking).
pub fn drive(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    let km = 2.0 * 6371.0 * h.sqrt().asin();
    km * 1.3 / 25.0 * 60.0 + 4.0
}

/// Appointment windows of a shift (local minutes) and how many each takes.
fn windows(late: bool) -> [(i64, i64, u8); 2] {
    if late {
        [(13 * 60, 16 * 60, 2), (17 * 60, 20 * 60, 2)]
    } else {
        [(9 * 60, 12 * 60, 2), (13 * 60, 17 * 60, 3)]
    }
}

impl Board {
    pub fn new(org: &Org, cal: &Calendar) -> Board {
        let days = (cal.days + AHEAD) as usize;
        let n = org.techs.len();
        Board {
            jobs: vec![vec![Vec::new(); n]; days],
            load: vec![vec![0; n]; days],
            windows: vec![vec![[0; 2]; n]; days],
            partner: vec![Vec::new(); days],
        }
    }

    /// Minutes technician `k` can still take on `day` when booked at `at`; an urgent job may
    /// push the day's last job to another day.
    fn room(
        &self,
        org: &Org,
        cal: &Calendar,
        k: usize,
        day: i64,
        at: DateTime<Utc>,
        urgent: bool,
    ) -> i64 {
        let Some((s, e)) = org.shift(k, day) else {
            return 0;
        };
        let from = s.max(at + Duration::minutes(30));
        let left = (e - from).num_minutes() - if cal.minute(from) < 13 * 60 { 45 } else { 0 };
        let full = (e - s).num_minutes() - 45;
        let booked = self.load[day as usize][k];
        if urgent {
            (left - 60).min((full as f64 * 1.2) as i64 - booked)
        } else {
            // What is booked falls over the whole day; the part after `at` is still to do.
            ((left as f64 * 0.92) - booked as f64 * left as f64 / full.max(1) as f64) as i64
        }
    }

    /// Books `job` for a technician with the skill, from the day `want` says; `prefer` is asked
    /// first (the technician who was there before). `None` when nobody can in three weeks.
    #[allow(clippy::too_many_arguments)]
    pub fn book(
        &mut self,
        rng: &mut StdRng,
        org: &Org,
        cal: &Calendar,
        job: &Job,
        at: DateTime<Utc>,
        want: Want,
        prefer: Option<usize>,
    ) -> Option<Slot> {
        let today = cal.index(cal.date(at));
        let first = match want {
            Want::Urgent => today,
            Want::Asap if cal.minute(at) < 14 * 60 => today,
            Want::Asap => today + 1,
            Want::Window(d) => d.max(today),
        };
        let last = (first + 21).min(self.load.len() as i64);
        for day in first.max(0)..last {
            let mut cands: Vec<(i64, usize)> = Vec::new();
            for (k, t) in org.techs.iter().enumerate() {
                if !t.skills.contains(&job.category) {
                    continue;
                }
                let urgent = want == Want::Urgent && day == today;
                if self.room(org, cal, k, day, at, urgent) < need(job, t) {
                    continue;
                }
                // Local technicians first, by their load; others only for urgent work or when
                // the wanted day has passed.
                let local = t.store == job.store;
                if !local && want != Want::Urgent && day <= first {
                    continue;
                }
                let rank = if Some(k) == prefer { -1_000 } else { 0 }
                    + if local { 0 } else { 10_000 }
                    + self.load[day as usize][k]
                    + rng.gen_range(0..20);
                cands.push((rank, k));
            }
            cands.sort();
            for (_, k) in cands {
                let window = match want {
                    Want::Window(_) => {
                        let slots = windows(org.techs[k].late);
                        let free = slots.iter().enumerate().find(|(w, (a, _, cap))| {
                            self.windows[day as usize][k][*w] < *cap
                                && (day > today || *a >= cal.minute(at) + 60)
                        });
                        match free {
                            Some((w, (a, b, _))) => {
                                self.windows[day as usize][k][w] += 1;
                                let date = cal.day(day);
                                Some((cal.at(date, *a), cal.at(date, *b)))
                            }
                            None => continue,
                        }
                    }
                    _ => None,
                };
                self.load[day as usize][k] += need(job, &org.techs[k]);
                return Some(Slot {
                    tech: Some(k),
                    day,
                    window,
                });
            }
        }
        None
    }

    /// Books an install with the partner in a window of `day`.
    pub fn book_partner(&mut self, rng: &mut StdRng, cal: &Calendar, day: i64) -> Slot {
        let date = cal.day(day);
        let (a, b) = if rng.gen_bool(0.5) {
            (9 * 60, 12 * 60)
        } else {
            (13 * 60, 18 * 60)
        };
        Slot {
            tech: None,
            day,
            window: Some((cal.at(date, a), cal.at(date, b))),
        }
    }

    /// Puts a job that did not fit on technician `k`'s first working day from `day` on, whatever
    /// is booked there (it is late: it goes first). False without a shift in two weeks.
    pub fn carry(&mut self, org: &Org, k: usize, day: i64, job: Job) -> bool {
        let last = (day + 14).min(self.load.len() as i64);
        let Some(d) = (day..last).find(|d| org.shift(k, *d).is_some()) else {
            return false;
        };
        self.load[d as usize][k] += need(&job, &org.techs[k]);
        self.jobs[d as usize][k].push(job);
        true
    }

    pub fn put(&mut self, slot: &Slot, job: Job) {
        let d = slot.day as usize;
        match slot.tech {
            Some(k) => self.jobs[d][k].push(job),
            None => self.partner[d].push(job),
        }
    }

    /// Drives day `day`: the jobs done, and those that did not fit.
    pub fn run(&mut self, rng: &mut StdRng, org: &Org, day: i64) -> (Vec<Done>, Vec<Job>) {
        let d = day as usize;
        let (mut done, mut over) = (Vec::new(), Vec::new());
        for (k, tech) in org.techs.iter().enumerate() {
            let mut pending = std::mem::take(&mut self.jobs[d][k]);
            let Some((start, end)) = org.shift(k, day) else {
                over.append(&mut pending);
                continue;
            };
            let lunch_at = start + Duration::minutes(210);
            let (mut t, mut pos, mut lunch, mut seq) = (start, (tech.lat, tech.lng), false, 0);
            while !pending.is_empty() {
                if !lunch && t >= lunch_at {
                    t += Duration::minutes(rng.gen_range(35..55));
                    lunch = true;
                }
                // Of the jobs that can be reached now, an urgent one, else the nearest — unless one
                // is due soon.
                let reach = t + Duration::minutes(40);
                let soon = t + Duration::minutes(100);
                let ready = || pending.iter().enumerate().filter(|(_, j)| j.ready <= reach);
                let i = ready()
                    .filter(|(_, j)| j.urgent)
                    .min_by_key(|(_, j)| j.due)
                    .or_else(|| {
                        ready()
                            .filter(|(_, j)| j.due <= soon)
                            .min_by_key(|(_, j)| j.due)
                    })
                    .or_else(|| {
                        ready().min_by(|a, b| {
                            drive(pos, (a.1.lat, a.1.lng))
                                .total_cmp(&drive(pos, (b.1.lat, b.1.lng)))
                        })
                    })
                    .or_else(|| pending.iter().enumerate().min_by_key(|(_, j)| j.ready))
                    .map_or(0, |x| x.0);
                let job = pending.swap_remove(i);
                let minutes =
                    drive(pos, (job.lat, job.lng)) * tech.travel * rng.gen_range(0.85..1.4);
                let way = Duration::minutes(minutes.round() as i64);
                let departed = t.max(job.ready - way).max(job.start);
                if !lunch && departed >= lunch_at && departed - t >= Duration::minutes(40) {
                    lunch = true;
                }
                // Now and then a jam on the way, or a job that takes far longer than planned:
                // the next appointments are late.
                let jam = if rng.gen_bool(0.04) {
                    Duration::minutes((rng.gen_range(10.0..40.0) * tech.travel).round() as i64)
                } else {
                    Duration::zero()
                };
                let arrived = departed + way + jam;
                let mut stay = job.minutes as f64 * tech.speed * rng.gen_range(0.85..1.2);
                if rng.gen_bool(tech.overrun) {
                    stay *= rng.gen_range(1.6..2.6);
                }
                let left = arrived + Duration::minutes(stay.round() as i64);
                if left > end {
                    over.push(job);
                    continue;
                }
                seq += 1;
                t = left + Duration::minutes(rng.gen_range(5..15));
                pos = (job.lat, job.lng);
                done.push(Done {
                    job,
                    tech: Some(k),
                    departed,
                    arrived,
                    left,
                    seq,
                });
            }
        }
        for job in std::mem::take(&mut self.partner[d]) {
            let span = (job.due - job.ready).num_minutes().max(60);
            let mut arrived = job.ready + Duration::minutes(rng.gen_range(0..span - 30));
            if rng.gen_bool(0.06) {
                arrived = job.due + Duration::minutes(rng.gen_range(10..90));
            }
            let mut departed = arrived - Duration::minutes(rng.gen_range(20..45));
            if departed < job.start {
                arrived += job.start - departed;
                departed = job.start;
            }
            let left = arrived + Duration::minutes(job.minutes);
            done.push(Done {
                job,
                tech: None,
                departed,
                arrived,
                left,
                seq: 0,
            });
        }
        (done, over)
    }
}
