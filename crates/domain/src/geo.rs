//! Places: great-circle distance, where an address's coordinates came from, the centres of the
//! districts of the demo city (the offline fallback when no geocoding service answers), and the
//! map datums of Chinese map apps.
//!
//! Stored coordinates are WGS-84 (GPS). Maps in China draw on GCJ-02 (AMap, Apple Maps in China,
//! Tencent) or BD-09 (Baidu): a WGS-84 point handed to them as it is lands a few hundred metres
//! off, so navigation links convert first ([`wgs84_to_gcj02`], [`gcj02_to_bd09`]). Outside China
//! GCJ-02 is WGS-84.

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

/// The Krasovsky 1940 ellipsoid the GCJ-02 offset is computed on.
const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// Whether GCJ-02 shifts `p`: the rough box of mainland China the published algorithm uses.
pub fn in_china(p: Point) -> bool {
    (72.004..=137.8347).contains(&p.lng) && (0.8293..=55.8271).contains(&p.lat)
}

fn offset_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn offset_lng(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 (GPS) → GCJ-02 (AMap, Apple Maps in China): the published conversion; no change
/// outside China.
pub fn wgs84_to_gcj02(p: Point) -> Point {
    use std::f64::consts::PI;
    if !in_china(p) {
        return p;
    }
    let dlat = offset_lat(p.lng - 105.0, p.lat - 35.0);
    let dlng = offset_lng(p.lng - 105.0, p.lat - 35.0);
    let rad = p.lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = dlat * 180.0 / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlng = dlng * 180.0 / (KRASOVSKY_A / sqrt_magic * rad.cos() * PI);
    Point::new(p.lat + dlat, p.lng + dlng)
}

/// GCJ-02 → WGS-84, by iterating the forward conversion (to well under a metre): for points a
/// Chinese map service (AMap's geocoder) answers.
pub fn gcj02_to_wgs84(g: Point) -> Point {
    if !in_china(g) {
        return g;
    }
    let mut w = g;
    for _ in 0..10 {
        let f = wgs84_to_gcj02(w);
        let (dlat, dlng) = (f.lat - g.lat, f.lng - g.lng);
        w = Point::new(w.lat - dlat, w.lng - dlng);
        if dlat.abs() < 1e-10 && dlng.abs() < 1e-10 {
            break;
        }
    }
    w
}

/// GCJ-02 → BD-09 (Baidu Maps).
pub fn gcj02_to_bd09(p: Point) -> Point {
    const X_PI: f64 = std::f64::consts::PI * 3000.0 / 180.0;
    let (x, y) = (p.lng, p.lat);
    let z = (x * x + y * y).sqrt() + 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) + 0.000003 * (x * X_PI).cos();
    Point::new(z * theta.sin() + 0.006, z * theta.cos() + 0.0065)
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

    fn close(a: Point, lat: f64, lng: f64, tol: f64) {
        assert!(
            (a.lat - lat).abs() < tol && (a.lng - lng).abs() < tol,
            "{a:?} vs ({lat}, {lng})"
        );
    }

    #[test]
    fn gcj02_matches_the_published_reference_values() {
        // wandergis/coordtransform (and hutool's CoordinateUtilTest, coordtransform-rs):
        // WGS-84 116.404, 39.915 → GCJ-02 116.41024449916938, 39.91640428150164.
        let g = wgs84_to_gcj02(Point::new(39.915, 116.404));
        close(g, 39.91640428150164, 116.41024449916938, 1e-9);
        // googollee/eviltransform's test points (Shanghai, Shenzhen, Beijing), to a few cm.
        for (wlat, wlng, glat, glng) in [
            (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
            (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
            (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
        ] {
            close(wgs84_to_gcj02(Point::new(wlat, wlng)), glat, glng, 1e-6);
        }
        // Tiananmen: WGS-84 116.391, 39.907 lies about 600 m off on a Chinese map.
        let t = wgs84_to_gcj02(Point::new(39.907, 116.391));
        close(t, 39.9084, 116.3972, 1e-4);
        assert!(distance_km(t, Point::new(39.907, 116.391)) > 0.5);
    }

    #[test]
    fn bd09_matches_the_published_reference_value() {
        // wandergis/coordtransform: GCJ-02 116.404, 39.915 → BD-09 116.41036949371029, 39.92133699351021.
        let b = gcj02_to_bd09(Point::new(39.915, 116.404));
        close(b, 39.92133699351021, 116.41036949371029, 1e-9);
    }

    #[test]
    fn no_offset_outside_china() {
        let paris = Point::new(48.8584, 2.2945);
        assert_eq!(wgs84_to_gcj02(paris), paris);
        assert_eq!(gcj02_to_wgs84(paris), paris);
        assert!(!in_china(paris));
        assert!(in_china(Point::new(30.28, 120.17)));
    }

    #[test]
    fn gcj02_back_to_wgs84_within_a_centimetre() {
        for (lat, lng) in [(30.28, 120.17), (39.907, 116.391), (22.54, 113.91)] {
            let w = Point::new(lat, lng);
            let back = gcj02_to_wgs84(wgs84_to_gcj02(w));
            assert!(distance_km(w, back) < 1e-5, "{back:?}");
        }
    }
}
