//! The after-action report's map (态势图): the affected areas over the streets around them,
//! the zone as drawn, and the linked alarms (by level), cases and placed resources, drawn to
//! a PNG with tiny-skia (resvg's rasterizer: pure Rust, anti-aliased) so the workbook holds
//! a picture any spreadsheet shows, without a map server.

use geo::{BoundingRect, MultiPolygon};
use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Rect, Stroke, StrokeDash, Transform};

use cityops_domain::telemetry::WarningLevel;

/// A mark on the map.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark {
    Alarm(WarningLevel),
    Case,
    Resource,
}

impl Mark {
    /// RGB; also the legend's font colour.
    pub(crate) fn rgb(self) -> (u8, u8, u8) {
        match self {
            Mark::Alarm(WarningLevel::Red) => (0xd6, 0x27, 0x28),
            Mark::Alarm(WarningLevel::Orange) => (0xf5, 0x7c, 0x00),
            Mark::Alarm(WarningLevel::Yellow) => (0xe6, 0xb8, 0x00),
            Mark::Alarm(WarningLevel::Blue) => (0x1f, 0x6f, 0xd1),
            Mark::Case => (0x6a, 0x1b, 0x9a),
            Mark::Resource => (0x2e, 0x7d, 0x32),
        }
    }
}

/// What the map shows.
pub(crate) struct MapScene<'a> {
    /// Streets around, drawn faintly for orientation.
    pub context: Vec<&'a MultiPolygon<f64>>,
    /// The incident's areas.
    pub affected: Vec<&'a MultiPolygon<f64>>,
    /// The drawn zone's ring, `[lon, lat]`.
    pub zone: Option<&'a [[f64; 2]]>,
    pub marks: Vec<(f64, f64, Mark)>,
}

/// Projects WGS-84 onto the picture: an equirectangular view at the scene's latitude, which
/// keeps a city's shapes true to within a fraction of a percent.
struct View {
    west: f64,
    north: f64,
    scale_x: f64,
    scale_y: f64,
    pad: f64,
}

impl View {
    fn at(&self, lon: f64, lat: f64) -> (f32, f32) {
        (
            (self.pad + (lon - self.west) * self.scale_x) as f32,
            (self.pad + (self.north - lat) * self.scale_y) as f32,
        )
    }
}

/// The scene as a PNG of `width` by `height` pixels; `None` when there is nothing to place
/// (no area has a shape).
pub(crate) fn render(scene: &MapScene<'_>, width: u32, height: u32) -> Option<Vec<u8>> {
    let mut bounds: Option<(f64, f64, f64, f64)> = None;
    let mut grow = |x: f64, y: f64| {
        bounds = Some(match bounds {
            None => (x, y, x, y),
            Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
        });
    };
    for shape in &scene.affected {
        if let Some(r) = shape.bounding_rect() {
            grow(r.min().x, r.min().y);
            grow(r.max().x, r.max().y);
        }
    }
    for &[x, y] in scene.zone.unwrap_or(&[]) {
        grow(x, y);
    }
    for &(x, y, _) in &scene.marks {
        grow(x, y);
    }
    let (west, south, east, north) = bounds?;
    // A single point or a sliver still gets a readable frame (about 500 m).
    let (span_x, span_y) = ((east - west).max(0.005), (north - south).max(0.005));
    let (west, north) = (
        west - (span_x - (east - west)) / 2.0,
        north + (span_y - (north - south)) / 2.0,
    );
    let shrink = ((south + north) / 2.0).to_radians().cos();
    let pad = 24.0;
    let (inner_w, inner_h) = (f64::from(width) - 2.0 * pad, f64::from(height) - 2.0 * pad);
    let scale = (inner_w / (span_x * shrink)).min(inner_h / span_y);
    let view = View {
        west: west - (inner_w / scale / shrink - span_x) / 2.0,
        north: north + (inner_h / scale - span_y) / 2.0,
        scale_x: scale * shrink,
        scale_y: scale,
        pad,
    };

    let mut pixmap = Pixmap::new(width, height)?;
    pixmap.fill(Color::from_rgba8(0xf7, 0xf7, 0xf5, 0xff));
    let paint = |r, g, b, a| {
        let mut paint = Paint::default();
        paint.set_color_rgba8(r, g, b, a);
        paint.anti_alias = true;
        paint
    };
    let outline = |shape: &MultiPolygon<f64>| {
        let mut path = PathBuilder::new();
        for polygon in shape {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for (i, c) in ring.coords().enumerate() {
                    let (x, y) = view.at(c.x, c.y);
                    if i == 0 {
                        path.move_to(x, y);
                    } else {
                        path.line_to(x, y);
                    }
                }
                path.close();
            }
        }
        path.finish()
    };
    let thin = Stroke {
        width: 0.8,
        ..Stroke::default()
    };
    for shape in &scene.context {
        if let Some(path) = outline(shape) {
            pixmap.fill_path(
                &path,
                &paint(0xe8, 0xe8, 0xe4, 0xff),
                FillRule::EvenOdd,
                Transform::identity(),
                None,
            );
            pixmap.stroke_path(
                &path,
                &paint(0xbb, 0xbb, 0xb5, 0xff),
                &thin,
                Transform::identity(),
                None,
            );
        }
    }
    for shape in &scene.affected {
        if let Some(path) = outline(shape) {
            pixmap.fill_path(
                &path,
                &paint(0xff, 0x98, 0x00, 0x55),
                FillRule::EvenOdd,
                Transform::identity(),
                None,
            );
            pixmap.stroke_path(
                &path,
                &paint(0xe6, 0x5c, 0x00, 0xff),
                &Stroke {
                    width: 1.5,
                    ..Stroke::default()
                },
                Transform::identity(),
                None,
            );
        }
    }
    if let Some(ring) = scene.zone {
        let mut path = PathBuilder::new();
        for (i, &[lon, lat]) in ring.iter().enumerate() {
            let (x, y) = view.at(lon, lat);
            if i == 0 {
                path.move_to(x, y);
            } else {
                path.line_to(x, y);
            }
        }
        path.close();
        if let Some(path) = path.finish() {
            pixmap.stroke_path(
                &path,
                &paint(0xc6, 0x28, 0x28, 0xff),
                &Stroke {
                    width: 2.5,
                    dash: StrokeDash::new(vec![8.0, 5.0], 0.0),
                    ..Stroke::default()
                },
                Transform::identity(),
                None,
            );
        }
    }
    let white = paint(0xff, 0xff, 0xff, 0xff);
    for &(lon, lat, mark) in &scene.marks {
        let (x, y) = view.at(lon, lat);
        let (r, g, b) = mark.rgb();
        let fill = paint(r, g, b, 0xff);
        // Alarms are dots, cases diamonds, resources squares: told apart without colour too.
        let path = match mark {
            Mark::Alarm(_) => PathBuilder::from_circle(x, y, 6.0),
            Mark::Case => {
                let mut p = PathBuilder::new();
                p.move_to(x, y - 7.0);
                p.line_to(x + 7.0, y);
                p.line_to(x, y + 7.0);
                p.line_to(x - 7.0, y);
                p.close();
                p.finish()
            }
            Mark::Resource => {
                Rect::from_xywh(x - 5.5, y - 5.5, 11.0, 11.0).map(PathBuilder::from_rect)
            }
        };
        if let Some(path) = path {
            pixmap.fill_path(&path, &fill, FillRule::Winding, Transform::identity(), None);
            pixmap.stroke_path(
                &path,
                &white,
                &Stroke {
                    width: 1.5,
                    ..Stroke::default()
                },
                Transform::identity(),
                None,
            );
        }
    }
    pixmap.encode_png().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{polygon, MultiPolygon};

    fn pixel(png: &[u8], x: u32, y: u32) -> [u8; 4] {
        let image = image::load_from_memory(png).unwrap().to_rgba8();
        image.get_pixel(x, y).0
    }

    #[test]
    fn the_map_fills_the_areas_and_places_the_marks_where_they_are() {
        let street: MultiPolygon<f64> = polygon![
            (x: 121.47, y: 31.23), (x: 121.49, y: 31.23), (x: 121.49, y: 31.25), (x: 121.47, y: 31.25)
        ]
        .into();
        let scene = MapScene {
            context: vec![],
            affected: vec![&street],
            zone: None,
            marks: vec![(121.48, 31.24, Mark::Alarm(WarningLevel::Red))],
        };
        let png = render(&scene, 400, 400).unwrap();
        // The alarm sits at the centre of the only area: red there; the area's fill (orange
        // over the background) between it and the edge; the background outside.
        let [r, g, b, _] = pixel(&png, 200, 200);
        assert!(
            r > 200 && g < 60 && b < 60,
            "red at the centre: {r},{g},{b}"
        );
        let [r, g, b, _] = pixel(&png, 200, 120);
        assert!(
            r > 240 && g > 180 && g < 230 && b < 190,
            "orange fill: {r},{g},{b}"
        );
        let [r, g, b, _] = pixel(&png, 5, 5);
        assert_eq!((r, g, b), (0xf7, 0xf7, 0xf5), "background in the corner");
        let empty = MapScene {
            context: vec![],
            affected: vec![],
            zone: None,
            marks: vec![],
        };
        assert!(render(&empty, 400, 400).is_none());
    }
}
