//! The zone a leader draws on the map around an incident: one GeoJSON polygon, kept as drawn
//! so the command map shows it. Which streets it touches is the geography's to say; the
//! incident's areas are those streets, so jurisdiction and linking stay by area code.

use serde::{Deserialize, Serialize};

use crate::case::Location;
use crate::InvalidInput;

/// The most positions of a drawn ring, the closing one included.
pub const MAX_ZONE_POSITIONS: usize = 500;

/// A GeoJSON Polygon (RFC 7946) of one ring, in WGS-84 longitude and latitude.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    /// Always `Polygon`.
    #[serde(rename = "type")]
    pub kind: String,
    pub coordinates: Vec<Vec<[f64; 2]>>,
}

impl Zone {
    /// The outer ring, once [`Zone::validate`] passed.
    pub fn ring(&self) -> &[[f64; 2]] {
        self.coordinates.first().map(Vec::as_slice).unwrap_or(&[])
    }

    /// One closed ring of 4 to [`MAX_ZONE_POSITIONS`] positions inside China, enclosing some
    /// area; no holes (a drawn zone has none).
    pub fn validate(&self, field: &str) -> Result<(), InvalidInput> {
        if self.kind != "Polygon" {
            return Err(InvalidInput::new(
                format!("{field}.type"),
                "a zone is a GeoJSON Polygon",
            ));
        }
        if self.coordinates.len() != 1 {
            return Err(InvalidInput::new(
                format!("{field}.coordinates"),
                "a zone is one ring, without holes",
            ));
        }
        let ring = &self.coordinates[0];
        let at = format!("{field}.coordinates[0]");
        if ring.len() < 4 || ring.len() > MAX_ZONE_POSITIONS {
            return Err(InvalidInput::new(
                at,
                format!("a ring has 4 to {MAX_ZONE_POSITIONS} positions, the last the first"),
            ));
        }
        for (i, [lon, lat]) in ring.iter().enumerate() {
            Location::new(*lon, *lat)
                .map_err(|e| InvalidInput::new(format!("{at}[{i}]"), e.reason))?;
        }
        if ring.first() != ring.last() {
            return Err(InvalidInput::inconsistent(
                at,
                "the ring is not closed: its last position repeats the first",
            ));
        }
        // Twice the signed area (shoelace); a ring that encloses nothing is a drawing mistake.
        let doubled: f64 = ring
            .windows(2)
            .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
            .sum();
        if doubled.abs() < 1e-12 {
            return Err(InvalidInput::inconsistent(at, "the ring encloses no area"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(ring: Vec<[f64; 2]>) -> Zone {
        Zone {
            kind: "Polygon".into(),
            coordinates: vec![ring],
        }
    }

    #[test]
    fn a_drawn_ring_is_checked_naming_the_position() {
        let square = vec![
            [121.47, 31.23],
            [121.49, 31.23],
            [121.49, 31.25],
            [121.47, 31.25],
            [121.47, 31.23],
        ];
        assert!(zone(square.clone()).validate("zone").is_ok());
        let mut open = square.clone();
        open.pop();
        open.push([121.48, 31.22]);
        assert_eq!(
            zone(open).validate("zone").unwrap_err().field,
            "zone.coordinates[0]"
        );
        let mut far = square.clone();
        far[2] = [2.0, 48.0];
        assert_eq!(
            zone(far).validate("zone").unwrap_err().field,
            "zone.coordinates[0][2]"
        );
        let line = vec![
            [121.47, 31.23],
            [121.48, 31.23],
            [121.49, 31.23],
            [121.47, 31.23],
        ];
        assert!(zone(line).validate("zone").is_err());
        let mut holed = zone(square.clone());
        holed.coordinates.push(square);
        assert_eq!(
            holed.validate("zone").unwrap_err().field,
            "zone.coordinates"
        );
    }
}
