//! The map of the day drawn without a map service: each technician's start and stops in route
//! order, one colour per technician, and the orders still waiting as grey pins. The points are
//! placed by longitude and latitude (longitude scaled by the cosine of the latitude, so
//! distances look right at a city's size) with a scale bar; it is a sketch of where the jobs are,
//! not a road map, and works offline.

/// Distinct colours, one per technician in board order (repeats after twelve).
const COLOURS: [&str; 12] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777",
    "#4d7c0f", "#7c3aed", "#0f766e", "#b91c1c",
];

pub fn colour(i: usize) -> &'static str {
    COLOURS[i % COLOURS.len()]
}

/// The drawing's size in SVG units.
const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 380.0;
const PAD: f64 = 22.0;

/// A technician's day: where they start and their orders in route order.
pub struct Route {
    pub colour: &'static str,
    pub name: String,
    pub start: (f64, f64),
    pub stops: Vec<Stop>,
}

pub struct Stop {
    pub order: i64,
    pub label: String,
    /// Planned (has a time on the route); untimed orders are drawn apart from the line.
    pub timed: bool,
}

/// An order waiting for a technician.
pub struct Waiting {
    pub order: i64,
    pub label: String,
    pub at: (f64, f64),
    pub confirmed: bool,
}

pub struct DrawnRoute {
    pub colour: &'static str,
    pub name: String,
    /// The polyline through the start and the timed stops, "x,y x,y …".
    pub line: String,
    pub start: (f64, f64),
    /// (x, y, number on the pin, order, label, on the route)
    pub stops: Vec<(f64, f64, usize, i64, String, bool)>,
}

pub struct DrawnPin {
    pub x: f64,
    pub y: f64,
    pub order: i64,
    pub label: String,
    pub confirmed: bool,
}

pub struct DayMap {
    pub width: f64,
    pub height: f64,
    pub routes: Vec<DrawnRoute>,
    pub pins: Vec<DrawnPin>,
    /// The scale bar: its length in SVG units and what it measures ("5 km").
    pub scale: (f64, String),
    pub empty: bool,
}

/// Longitude/latitude to the drawing, fitted to the points with their aspect kept.
struct Projection {
    lat0: f64,
    lng0: f64,
    kx: f64,
    unit: f64,
    x_off: f64,
    y_off: f64,
}

impl Projection {
    fn fit(points: &[(f64, f64)]) -> Projection {
        let (mut min_lat, mut max_lat, mut min_lng, mut max_lng) =
            (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(lat, lng) in points {
            min_lat = min_lat.min(lat);
            max_lat = max_lat.max(lat);
            min_lng = min_lng.min(lng);
            max_lng = max_lng.max(lng);
        }
        if points.is_empty() {
            (min_lat, max_lat, min_lng, max_lng) = (0.0, 0.0, 0.0, 0.0);
        }
        let kx = ((min_lat + max_lat) / 2.0).to_radians().cos().max(0.1);
        // At least about a kilometre across, so one point or a street is not blown up.
        let ex = ((max_lng - min_lng) * kx).max(0.01);
        let ey = (max_lat - min_lat).max(0.01);
        let unit = ((WIDTH - 2.0 * PAD) / ex).min((HEIGHT - 2.0 * PAD) / ey);
        Projection {
            lat0: max_lat,
            lng0: min_lng,
            kx,
            unit,
            x_off: (WIDTH - ((max_lng - min_lng) * kx) * unit) / 2.0,
            y_off: (HEIGHT - (max_lat - min_lat) * unit) / 2.0,
        }
    }

    fn xy(&self, (lat, lng): (f64, f64)) -> (f64, f64) {
        let x = self.x_off + (lng - self.lng0) * self.kx * self.unit;
        let y = self.y_off + (self.lat0 - lat) * self.unit;
        ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0)
    }

    /// A scale bar of a round length near a fifth of the width.
    fn scale(&self) -> (f64, String) {
        let per_km = self.unit / 111.32;
        let want = WIDTH / 5.0 / per_km;
        let km = [0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0]
            .into_iter()
            .min_by(|a, b| (a - want).abs().total_cmp(&(b - want).abs()))
            .unwrap_or(1.0);
        let label = if km < 1.0 {
            format!("{} m", (km * 1000.0) as i64)
        } else {
            format!("{km} km")
        };
        (((km * per_km) * 10.0).round() / 10.0, label)
    }
}

impl DayMap {
    /// `places` gives each stop's (order, latitude, longitude); stops without a place are left off.
    /// `places`: where each order of the routes is, by order id.
    pub fn draw(routes: &[Route], waiting: &[Waiting], places: &[(i64, f64, f64)]) -> DayMap {
        let places: std::collections::HashMap<i64, (f64, f64)> = places
            .iter()
            .map(|&(order, lat, lng)| (order, (lat, lng)))
            .collect();
        let place = |order: i64| places.get(&order).copied();
        let mut all: Vec<(f64, f64)> = waiting.iter().map(|w| w.at).collect();
        for r in routes {
            all.push(r.start);
            all.extend(r.stops.iter().filter_map(|s| place(s.order)));
        }
        let pr = Projection::fit(&all);
        let drawn = routes
            .iter()
            .map(|r| {
                let start = pr.xy(r.start);
                let mut line = vec![format!("{},{}", start.0, start.1)];
                let mut stops = Vec::new();
                let mut seq = 0;
                for s in &r.stops {
                    let Some(at) = place(s.order) else { continue };
                    let (x, y) = pr.xy(at);
                    if s.timed {
                        seq += 1;
                        line.push(format!("{x},{y}"));
                    }
                    stops.push((
                        x,
                        y,
                        if s.timed { seq } else { 0 },
                        s.order,
                        s.label.clone(),
                        s.timed,
                    ));
                }
                DrawnRoute {
                    colour: r.colour,
                    name: r.name.clone(),
                    line: line.join(" "),
                    start,
                    stops,
                }
            })
            .collect();
        // Orders at one address are fanned out around it, so each pin can be seen and clicked.
        let mut seen: Vec<((f64, f64), usize)> = Vec::new();
        let pins = waiting
            .iter()
            .map(|w| {
                let (mut x, mut y) = pr.xy(w.at);
                let n = match seen.iter_mut().find(|(p, _)| *p == (x, y)) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        seen.push(((x, y), 0));
                        0
                    }
                };
                if n > 0 {
                    let a = n as f64 * 2.4;
                    x = ((x + 9.0 * a.cos()) * 10.0).round() / 10.0;
                    y = ((y + 9.0 * a.sin()) * 10.0).round() / 10.0;
                }
                DrawnPin {
                    x,
                    y,
                    order: w.order,
                    label: w.label.clone(),
                    confirmed: w.confirmed,
                }
            })
            .collect();
        DayMap {
            width: WIDTH,
            height: HEIGHT,
            routes: drawn,
            pins,
            scale: pr.scale(),
            empty: all.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(start: (f64, f64), stops: &[(i64, bool)]) -> Route {
        Route {
            colour: colour(0),
            name: "张师傅".into(),
            start,
            stops: stops
                .iter()
                .map(|&(order, timed)| Stop {
                    order,
                    label: format!("WO{order}"),
                    timed,
                })
                .collect(),
        }
    }

    #[test]
    fn points_keep_their_places_and_fit_the_drawing() {
        // Start in the south-west, a stop due north-east of it, a waiting order east.
        let r = route((30.20, 120.10), &[(1, true), (2, false)]);
        let places = [(1, 30.30, 120.20), (2, 30.25, 120.15)];
        let w = Waiting {
            order: 3,
            label: "WO3".into(),
            at: (30.20, 120.20),
            confirmed: false,
        };
        let m = DayMap::draw(&[r], &[w], &places);
        let d = &m.routes[0];
        let (sx, sy) = d.start;
        let (x1, y1) = (d.stops[0].0, d.stops[0].1);
        assert!(x1 > sx && y1 < sy, "north-east is right and up");
        let p = &m.pins[0];
        assert!(
            (p.y - sy).abs() < 0.2 && p.x > sx,
            "east at the same latitude"
        );
        // The line runs through the start and the timed stop only; the untimed stop has no number.
        assert_eq!(d.line.split(' ').count(), 2);
        assert_eq!((d.stops[0].2, d.stops[1].2), (1, 0));
        for (x, y) in [(sx, sy), (x1, y1), (p.x, p.y)] {
            assert!((PAD - 0.1..=WIDTH - PAD + 0.1).contains(&x), "x {x}");
            assert!((PAD - 0.1..=HEIGHT - PAD + 0.1).contains(&y), "y {y}");
        }
        // Longitude is scaled by cos(latitude): 0.1° east is shorter than 0.1° north.
        assert!((p.x - sx) < (sy - y1));
        assert!(!m.empty);
    }

    #[test]
    fn the_scale_bar_measures_what_it_says() {
        // 0.1° of latitude ≈ 11.1 km tall.
        let r = route((30.0, 120.0), &[(1, true)]);
        let m = DayMap::draw(&[r], &[], &[(1, 30.1, 120.0)]);
        let (len, label) = &m.scale;
        let km: f64 = label.trim_end_matches(" km").parse().unwrap();
        let tall = m.routes[0].start.1 - m.routes[0].stops[0].1;
        let expected = tall / 11.132 * km;
        assert!((len - expected).abs() < 0.5, "{len} vs {expected}");
    }

    #[test]
    fn orders_at_one_address_are_fanned_out() {
        let w = |order| Waiting {
            order,
            label: String::new(),
            at: (30.2, 120.1),
            confirmed: true,
        };
        let m = DayMap::draw(&[], &[w(1), w(2), w(3)], &[]);
        let at: Vec<(f64, f64)> = m.pins.iter().map(|p| (p.x, p.y)).collect();
        assert!(at[0] != at[1] && at[1] != at[2] && at[0] != at[2], "{at:?}");
    }

    #[test]
    fn no_points_draws_an_empty_map() {
        let m = DayMap::draw(&[], &[], &[]);
        assert!(m.empty && m.routes.is_empty() && m.pins.is_empty());
    }
}
