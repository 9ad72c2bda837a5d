//! Travel models: a great-circle estimate for a city, or a routing engine's distance table.

use serde::{Deserialize, Serialize};

use crate::RoutingError;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TravelModel {
    /// Great-circle distance × detour factor ÷ speed.
    Estimate { detour: f64, speed_kmh: f64 },
    /// A routing engine's table (e.g. OSRM `table`): `points` in order, row-major seconds and metres.
    Table {
        points: Vec<Point>,
        durations: Vec<i64>,
        distances: Vec<i64>,
    },
}

impl Default for TravelModel {
    fn default() -> Self {
        TravelModel::Estimate {
            detour: 1.3,
            speed_kmh: 25.0,
        }
    }
}

/// Great-circle distance in metres.
pub fn haversine_m(a: Point, b: Point) -> f64 {
    const R: f64 = 6_371_000.0;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().asin()
}

impl TravelModel {
    /// Row-major duration (s) and distance (m) matrices between `points`.
    pub fn matrix(&self, points: &[Point]) -> Result<(Vec<i64>, Vec<i64>), RoutingError> {
        let n = points.len();
        let mut dur = Vec::with_capacity(n * n);
        let mut dist = Vec::with_capacity(n * n);
        match self {
            TravelModel::Estimate { detour, speed_kmh } => {
                if *speed_kmh <= 0.0 || *detour < 1.0 {
                    return Err(RoutingError::Input(
                        "speed must be positive and detour at least 1".into(),
                    ));
                }
                let mps = speed_kmh * 1000.0 / 3600.0;
                for a in points {
                    for b in points {
                        let m = haversine_m(*a, *b) * detour;
                        dist.push(m.round() as i64);
                        dur.push((m / mps).round() as i64);
                    }
                }
            }
            TravelModel::Table {
                points: table_points,
                durations,
                distances,
            } => {
                let m = table_points.len();
                if durations.len() != m * m || distances.len() != m * m {
                    return Err(RoutingError::Input(format!(
                        "the table needs {m}×{m} durations and distances"
                    )));
                }
                let idx: Vec<usize> = points
                    .iter()
                    .map(|p| {
                        table_points.iter().position(|q| q == p).ok_or_else(|| {
                            RoutingError::Input(format!(
                                "point {},{} is not in the table",
                                p.lat, p.lng
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                for &a in &idx {
                    for &b in &idx {
                        dur.push(durations[a * m + b]);
                        dist.push(distances[a * m + b]);
                    }
                }
            }
        }
        Ok((dur, dist))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_uses_detour_and_speed() {
        // One degree of latitude is about 111.2 km.
        let a = Point {
            lat: 30.0,
            lng: 120.0,
        };
        let b = Point {
            lat: 30.01,
            lng: 120.0,
        };
        let (dur, dist) = TravelModel::default().matrix(&[a, b]).unwrap();
        assert_eq!(dist[0], 0);
        assert!((dist[1] - 1446).abs() <= 2, "{}", dist[1]); // 1112 m × 1.3
        assert!((dur[1] - 208).abs() <= 1, "{}", dur[1]); // 1446 m at 25 km/h
        assert_eq!(dur[1], dur[2]);
    }

    #[test]
    fn a_table_is_looked_up_by_point() {
        let p = [Point { lat: 1.0, lng: 1.0 }, Point { lat: 2.0, lng: 2.0 }];
        let t = TravelModel::Table {
            points: p.to_vec(),
            durations: vec![0, 60, 70, 0],
            distances: vec![0, 500, 600, 0],
        };
        let (dur, dist) = t.matrix(&[p[1], p[0]]).unwrap();
        assert_eq!(dur, vec![0, 70, 60, 0]);
        assert_eq!(dist, vec![0, 600, 500, 0]);
        assert!(t.matrix(&[Point { lat: 3.0, lng: 3.0 }]).is_err());
    }
}
