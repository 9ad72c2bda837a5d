//! The problem the search solves: clients with time windows, service times, demands and the
//! vehicles allowed to serve them; vehicles with their own start and end places, shift and
//! capacity; travel costs and times between places. Everything is in integers (the caller's
//! unit: tenths of a distance unit on Solomon, seconds in the product).

/// A place to serve.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub service: i64,
    /// Service may start in `[early, late]`.
    pub early: i64,
    pub late: i64,
    pub demand: i64,
    /// Optional clients may be left out at the cost of their prize.
    pub required: bool,
    pub prize: i64,
    /// A break: taken wherever the vehicle is (no travel to or from it; the matrices' rows for
    /// its place are not used).
    pub placeless: bool,
    /// The group (store) the client belongs to, `0..16`.
    pub group: u8,
}

/// A vehicle (a technician's day): where it starts and ends, its shift and capacity.
#[derive(Debug, Clone, PartialEq)]
pub struct Vehicle {
    /// Depot indices (`0..depots`).
    pub start: usize,
    pub end: usize,
    /// Leaves the start no earlier than `early`, back at the end no later than `late`.
    pub early: i64,
    pub late: i64,
    pub capacity: i64,
    /// Cost of using the vehicle at all.
    pub fixed_cost: i64,
    /// The group (store) the vehicle belongs to, `0..16`.
    pub group: u8,
}

/// Places are numbered depots first (`0..depots`), then clients (`depots..depots + clients`).
#[derive(Debug, Clone)]
pub struct Model {
    pub depots: usize,
    pub clients: Vec<Client>,
    pub vehicles: Vec<Vehicle>,
    /// Cost of each arc, row-major over places (the objective).
    pub cost: Vec<i64>,
    /// Travel time of each arc.
    pub time: Vec<i64>,
    /// Coordinates of the places, when known (they order routes for crossover and SWAP*).
    pub coords: Option<Vec<(f64, f64)>>,
    /// `allowed[c * vehicles + v]`: may vehicle `v` serve client `c`? Empty: every vehicle may.
    pub allowed: Vec<bool>,
    /// The cost of each client a vehicle of another group serves.
    pub foreign_cost: i64,
}

/// Groups a model may have (each counted in a byte of [`super::segment::Segment::groups`]).
pub const GROUPS: u8 = 16;

impl Model {
    pub fn places(&self) -> usize {
        self.depots + self.clients.len()
    }

    #[inline]
    pub fn cost(&self, a: usize, b: usize) -> i64 {
        self.cost[a * self.places() + b]
    }

    #[inline]
    pub fn time(&self, a: usize, b: usize) -> i64 {
        self.time[a * self.places() + b]
    }

    /// The client at place `p` (`p >= depots`).
    #[inline]
    pub fn client(&self, p: usize) -> &Client {
        &self.clients[p - self.depots]
    }

    #[inline]
    pub fn may_serve(&self, v: usize, p: usize) -> bool {
        self.allowed.is_empty() || self.allowed[(p - self.depots) * self.vehicles.len() + v]
    }

    /// Checks the sizes and that every required client has a vehicle allowed to serve it.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.places();
        if self.cost.len() != n * n || self.time.len() != n * n {
            return Err(format!("the matrices must be {n} × {n}"));
        }
        if self.vehicles.is_empty() {
            return Err("no vehicle".into());
        }
        if self.coords.as_ref().is_some_and(|c| c.len() != n) {
            return Err(format!("{n} coordinates expected"));
        }
        if !self.allowed.is_empty()
            && self.allowed.len() != self.clients.len() * self.vehicles.len()
        {
            return Err("`allowed` must have one entry per client and vehicle".into());
        }
        if self.clients.iter().any(|c| c.group >= GROUPS)
            || self.vehicles.iter().any(|v| v.group >= GROUPS)
        {
            return Err(format!("at most {GROUPS} groups"));
        }
        for (v, veh) in self.vehicles.iter().enumerate() {
            if veh.start >= self.depots || veh.end >= self.depots {
                return Err(format!("vehicle {v}: no such depot"));
            }
        }
        for (c, cl) in self.clients.iter().enumerate() {
            let p = self.depots + c;
            if cl.required && !(0..self.vehicles.len()).any(|v| self.may_serve(v, p)) {
                return Err(format!(
                    "client {c} is required but no vehicle may serve it"
                ));
            }
        }
        Ok(())
    }

    /// Vehicles that are interchangeable get the same kind (an empty route of one kind is as
    /// good as any other of it).
    pub fn vehicle_kinds(&self) -> Vec<usize> {
        let nv = self.vehicles.len();
        let mut kinds: Vec<usize> = Vec::with_capacity(nv);
        for v in 0..nv {
            let same = (0..v).find(|&w| {
                self.vehicles[w] == self.vehicles[v]
                    && (self.allowed.is_empty()
                        || (0..self.clients.len())
                            .all(|c| self.allowed[c * nv + v] == self.allowed[c * nv + w]))
            });
            kinds.push(same.map_or(v, |w| kinds[w]));
        }
        kinds
    }
}
