//! Places: great-circle distance, where an address's coordinates came from, and the centres of
//! the districts of the demo city (the offline fallback when no geocoding service answers).

use crate::str_enum;

/// A place on the map, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lng: f64,
}

impl Point {
    pub const fn new(lat: f64, lng: f64) -> Point {
        Point { lat, lng }
    }
}

/// Great-circle distance in kilometres.
pub fn distance_km(a: Point, b: Point) -> f64 {
    const R: f64 = 6371.0;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

str_enum!(
    /// Where an address's coordinates came from. Only `given`, a precise `geocoder` answer and
    /// `dispatcher` count as confirmed; the others are placeholders until someone sets them.
    LocatedBy {
        Given = "given" / "已填写" / "given",
        Geocoder = "geocoder" / "地址解析" / "geocoded",
        District = "district" / "区县中心" / "district centre",
        Store = "store" / "门店位置" / "store location",
        Dispatcher = "dispatcher" / "调度确认" / "set by the dispatcher",
    }
);

/// The districts of the demo city (Hangzhou) and their centres.
pub const DISTRICTS: &[(&str, Point)] = &[
    ("上城区", Point::new(30.2425, 120.1691)),
    ("拱墅区", Point::new(30.3195, 120.1419)),
    ("西湖区", Point::new(30.2594, 120.1302)),
    ("滨江区", Point::new(30.2084, 120.2107)),
    ("萧山区", Point::new(30.1837, 120.2646)),
    ("余杭区", Point::new(30.2960, 120.0300)),
    ("临平区", Point::new(30.4190, 120.2997)),
    ("钱塘区", Point::new(30.3220, 120.4930)),
    ("富阳区", Point::new(30.0490, 119.9600)),
    ("临安区", Point::new(30.2340, 119.7240)),
];

/// The district an address names, with its centre.
pub fn district_of(address: &str) -> Option<(&'static str, Point)> {
    DISTRICTS
        .iter()
        .find(|(name, _)| address.contains(name))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_in_kilometres() {
        let a = Point::new(30.28, 120.17);
        assert!(distance_km(a, a) < 1e-9);
        // One degree of latitude is about 111 km.
        let d = distance_km(Point::new(30.0, 120.0), Point::new(31.0, 120.0));
        assert!((d - 111.2).abs() < 0.5, "{d}");
    }

    #[test]
    fn districts_by_name() {
        assert_eq!(
            district_of("杭州市滨江区江南大道 1088 号").map(|d| d.0),
            Some("滨江区")
        );
        assert_eq!(district_of("北京市朝阳区"), None);
    }
}
