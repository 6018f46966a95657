//! The coordinate systems of Chinese maps. GPS gives WGS-84; AMap and Tencent use GCJ-02
//! (WGS-84 with the state-mandated obfuscating offset); Baidu uses BD-09 (a further offset of
//! GCJ-02). CityOps stores WGS-84 and converts at the edges.
//!
//! WGS-84 -> GCJ-02 is the published forward formula on the Krasovsky 1940 ellipsoid; it has
//! no closed-form inverse, so GCJ-02 -> WGS-84 iterates the forward formula to 1e-9 degrees.

use std::f64::consts::PI;

/// A coordinate reference system a client may send a location in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    Wgs84,
    Gcj02,
    Bd09,
}

impl Crs {
    pub const ALL: [Crs; 3] = [Crs::Wgs84, Crs::Gcj02, Crs::Bd09];

    /// The name a client gives, e.g. `gcj02`.
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }

    pub fn parse(text: &str) -> Option<Crs> {
        Crs::ALL.into_iter().find(|crs| crs.as_str() == text)
    }

    /// The point in WGS-84, the system CityOps stores.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => {
                let (lon, lat) = bd09_to_gcj02(lon, lat);
                gcj02_to_wgs84(lon, lat)
            }
        }
    }

    /// The WGS-84 point in this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => {
                let (lon, lat) = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(lon, lat)
            }
        }
    }
}

/// Semi-major axis and squared eccentricity of the Krasovsky 1940 ellipsoid.
const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

/// The offset applies inside mainland China only; elsewhere GCJ-02 equals WGS-84.
fn outside_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn offset_lat(x: f64, y: f64) -> f64 {
    let mut d = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    d += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    d += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    d
}

fn offset_lon(x: f64, y: f64) -> f64 {
    let mut d = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    d += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    d += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    d
}

pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (x, y) = (lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = offset_lat(x, y) * 180.0
        / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlon = offset_lon(x, y) * 180.0 / (KRASOVSKY_A / sqrt_magic * rad.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// Inverts [`wgs84_to_gcj02`] by fixed-point iteration: the offset varies slowly, so each
/// step gains several digits; 1e-9 degrees (0.1 mm) is reached in a handful of steps.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (elon, elat) = (glon - lon, glat - lat);
        wlon -= elon;
        wlat -= elat;
        if elon.abs() < 1e-9 && elat.abs() < 1e-9 {
            break;
        }
    }
    (wlon, wlat)
}

const BAIDU_X_PI: f64 = PI * 3000.0 / 180.0;

pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * BAIDU_X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * BAIDU_X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// Baidu's published inverse is approximate (about 1e-6 degrees, 10 cm, off); starting from it,
/// a few fixed-point steps on [`gcj02_to_bd09`] make it exact.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * BAIDU_X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * BAIDU_X_PI).cos();
    let (mut glon, mut glat) = (z * theta.cos(), z * theta.sin());
    for _ in 0..10 {
        let (blon, blat) = gcj02_to_bd09(glon, glat);
        let (elon, elat) = (blon - lon, blat - lat);
        glon -= elon;
        glat -= elat;
        if elon.abs() < 1e-10 && elat.abs() < 1e-10 {
            break;
        }
    }
    (glon, glat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64), tolerance: f64) -> bool {
        (a.0 - b.0).abs() < tolerance && (a.1 - b.1).abs() < tolerance
    }

    #[test]
    fn all_systems_are_listed_and_read_back_from_their_names() {
        // Exhaustive: a new system does not compile until it has its place in the sequence,
        // and then this fails until `ALL` lists it there too.
        let next = |crs: Crs| match crs {
            Crs::Wgs84 => Some(Crs::Gcj02),
            Crs::Gcj02 => Some(Crs::Bd09),
            Crs::Bd09 => None,
        };
        let systems: Vec<Crs> = std::iter::successors(Some(Crs::Wgs84), |c| next(*c)).collect();
        assert_eq!(systems, Crs::ALL);
        for crs in Crs::ALL {
            assert_eq!(Crs::parse(crs.as_str()), Some(crs));
        }
    }

    /// Reference outputs published with the widely used coordtransform library for the point
    /// (116.404, 39.915), Tiananmen.
    #[test]
    fn conversions_match_the_published_reference_points() {
        assert!(close(
            wgs84_to_gcj02(116.404, 39.915),
            (116.41024449916938, 39.91640428150164),
            1e-12
        ));
        assert!(close(
            gcj02_to_bd09(116.404, 39.915),
            (116.41036949371029, 39.92133699351021),
            1e-12
        ));
        // The library's inverses are one-step approximations; ours iterate to the exact
        // inverse, which lies within 1e-5 degrees (about 1 m) of the published values.
        assert!(close(
            bd09_to_gcj02(116.404, 39.915),
            (116.39762729119315, 39.90865673957631),
            1e-5
        ));
        assert!(close(
            gcj02_to_wgs84(116.404, 39.915),
            (116.39775550083061, 39.91359571849836),
            1e-5
        ));
    }

    #[test]
    fn round_trips_stay_within_a_centimetre_across_china() {
        // 1e-7 degrees is about 1 cm.
        for lon in (74..135).step_by(3) {
            for lat in (19..53).step_by(3) {
                let p = (f64::from(lon) + 0.123, f64::from(lat) + 0.456);
                let gcj = wgs84_to_gcj02(p.0, p.1);
                assert!(close(gcj02_to_wgs84(gcj.0, gcj.1), p, 1e-7), "{p:?}");
                let bd = Crs::Bd09.from_wgs84(p.0, p.1);
                assert!(close(Crs::Bd09.to_wgs84(bd.0, bd.1), p, 1e-7), "{p:?}");
            }
        }
    }

    #[test]
    fn outside_china_gcj02_is_wgs84() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(Crs::parse("gcj02"), Some(Crs::Gcj02));
        assert_eq!(Crs::parse("epsg:4326"), None);
    }
}
