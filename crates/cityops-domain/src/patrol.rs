//! Patrols (巡查): an inspector's time on duty and the positions their phone reported on the
//! way, from which the shift lead sees where the grid was walked and how far.
//!
//! A phone reports a fix every few seconds, but not always in order: fixes taken without
//! network arrive later, in a batch, and a batch may be sent twice. So a patrol's figures are
//! always computed from all of its fixes in time order, never added up as batches arrive.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::case::Location;
use crate::telemetry::distance_m;
use crate::AreaCode;

/// A fix reported this much before the patrol began, or after now, is a clock that is wrong,
/// not a position on the patrol; a little slack lets a phone's clock differ from the server's.
pub const CLOCK_SLACK: Duration = Duration::minutes(2);

/// The most a fix may claim to be off by and still be a position (a phone with no satellite
/// fix reports its cell tower's, kilometres off).
pub const MAX_ACCURACY_M: f64 = 5_000.0;

/// One position of a phone: where, when, and how far off it may be (the radius of the 68%
/// circle, as the Geolocation API reports it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub at: DateTime<Utc>,
    pub location: Location,
    pub accuracy_m: f64,
}

/// An inspector's time on duty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patrol {
    pub id: String,
    pub user_id: String,
    pub username: String,
    /// The inspector's jurisdiction when the patrol began: who may see the track.
    pub area: AreaCode,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// How many fixes the track holds.
    pub positions: u32,
    /// The length walked, by [`track_length_m`].
    pub distance_m: f64,
    /// The latest fix by time.
    pub last: Option<Fix>,
}

/// Why a fix is not taken onto a patrol.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FixRefused {
    #[error("the fix's time is before the patrol began")]
    BeforeStart,
    #[error("the fix's time is after the patrol ended")]
    AfterEnd,
    #[error("the fix's time is in the future")]
    InFuture,
    #[error("the accuracy must be a number of metres from 0 to 5000")]
    Accuracy,
}

impl FixRefused {
    /// The field of the fix the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            FixRefused::Accuracy => "accuracy_m",
            _ => "at",
        }
    }
}

impl Patrol {
    pub fn start(
        id: String,
        user_id: String,
        username: String,
        area: AreaCode,
        at: DateTime<Utc>,
    ) -> Patrol {
        Patrol {
            id,
            user_id,
            username,
            area,
            started_at: at,
            ended_at: None,
            positions: 0,
            distance_m: 0.0,
            last: None,
        }
    }

    pub fn is_open(&self) -> bool {
        self.ended_at.is_none()
    }

    /// Whether a fix belongs on this patrol at `now`. Fixes may arrive after the patrol
    /// ended (a phone that was offline), but must have been taken while it ran.
    pub fn accepts(&self, fix: &Fix, now: DateTime<Utc>) -> Result<(), FixRefused> {
        if !(0.0..=MAX_ACCURACY_M).contains(&fix.accuracy_m) {
            return Err(FixRefused::Accuracy);
        }
        if fix.at > now + CLOCK_SLACK {
            return Err(FixRefused::InFuture);
        }
        if fix.at < self.started_at - CLOCK_SLACK {
            return Err(FixRefused::BeforeStart);
        }
        if self.ended_at.is_some_and(|end| fix.at > end + CLOCK_SLACK) {
            return Err(FixRefused::AfterEnd);
        }
        Ok(())
    }

    /// Ends the patrol; ending an ended patrol changes nothing.
    pub fn end(&mut self, at: DateTime<Utc>) {
        if self.ended_at.is_none() {
            self.ended_at = Some(at.max(self.started_at));
        }
    }

    /// Recomputes the figures from every fix of the track, in any order.
    pub fn summarize(&mut self, fixes: &[Fix]) {
        let mut ordered = fixes.to_vec();
        ordered.sort_by_key(|f| f.at);
        self.positions = u32::try_from(ordered.len()).unwrap_or(u32::MAX);
        self.distance_m = track_length_m(&ordered);
        self.last = ordered.last().copied();
    }
}

/// The length of a track (fixes in time order) in metres, not counting the wandering of a
/// phone that stands still: a step counts only once it leaves the circle both fixes could
/// be anywhere within, and is measured from the last fix that counted. Without this, ten
/// minutes at a kerb with 15 m of GPS noise every 10 s would "walk" almost a kilometre.
pub fn track_length_m(fixes: &[Fix]) -> f64 {
    let mut fixes = fixes.iter();
    let Some(mut anchor) = fixes.next() else {
        return 0.0;
    };
    let mut length = 0.0;
    for fix in fixes {
        let step = distance_m(anchor.location, fix.location);
        if step > anchor.accuracy_m.max(fix.accuracy_m) {
            length += step;
            anchor = fix;
        }
    }
    length
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + second, 0).unwrap()
    }

    fn fix(second: i64, lon: f64, lat: f64, accuracy_m: f64) -> Fix {
        Fix {
            at: at(second),
            location: Location { lon, lat },
            accuracy_m,
        }
    }

    fn patrol() -> Patrol {
        Patrol::start(
            "p".into(),
            "u".into(),
            "inspector".into(),
            AreaCode::parse("310101").unwrap(),
            at(0),
        )
    }

    #[test]
    fn a_walk_along_a_street_is_its_length() {
        // 南京东路 eastwards, ten fixes 0.001° of longitude apart (about 95 m at 31.24°N).
        let walk: Vec<Fix> = (0..10)
            .map(|i| fix(i * 30, 121.475 + 0.001 * i as f64, 31.2385, 8.0))
            .collect();
        let direct = distance_m(walk[0].location, walk[9].location);
        let length = track_length_m(&walk);
        assert!((length - direct).abs() < 0.01, "{length} vs {direct}");
        assert!((direct - 855.0).abs() < 10.0, "{direct}");
    }

    #[test]
    fn standing_still_walks_nowhere() {
        // Noise of a few metres around one kerb, each fix claiming 15 m accuracy.
        let noise = [0.0, 0.00005, -0.00004, 0.00008, -0.00007, 0.00003];
        let still: Vec<Fix> = noise
            .iter()
            .enumerate()
            .map(|(i, d)| fix(i as i64 * 10, 121.48 + d, 31.24 - d, 15.0))
            .collect();
        assert_eq!(track_length_m(&still), 0.0);
    }

    #[test]
    fn a_patrol_takes_fixes_taken_while_it_ran() {
        let mut p = patrol();
        let now = at(3600);
        assert_eq!(p.accepts(&fix(10, 121.48, 31.24, 5.0), now), Ok(()));
        assert_eq!(
            p.accepts(&fix(-600, 121.48, 31.24, 5.0), now),
            Err(FixRefused::BeforeStart)
        );
        assert_eq!(
            p.accepts(&fix(4000, 121.48, 31.24, 5.0), now),
            Err(FixRefused::InFuture)
        );
        assert_eq!(
            p.accepts(&fix(10, 121.48, 31.24, -1.0), now),
            Err(FixRefused::Accuracy)
        );
        p.end(at(1800));
        // Sent after the end, taken before it: a phone that was offline.
        assert_eq!(p.accepts(&fix(1700, 121.48, 31.24, 5.0), now), Ok(()));
        assert_eq!(
            p.accepts(&fix(3000, 121.48, 31.24, 5.0), now),
            Err(FixRefused::AfterEnd)
        );
        p.end(at(3000));
        assert_eq!(p.ended_at, Some(at(1800)), "ending again changes nothing");
    }

    #[test]
    fn figures_do_not_depend_on_the_order_fixes_arrive_in() {
        let walk: Vec<Fix> = (0..5)
            .map(|i| fix(i * 30, 121.475 + 0.001 * i as f64, 31.2385, 8.0))
            .collect();
        let mut in_order = patrol();
        in_order.summarize(&walk);
        let mut shuffled = patrol();
        let mut late_first = walk.clone();
        late_first.rotate_left(3);
        shuffled.summarize(&late_first);
        assert_eq!(in_order, shuffled);
        assert_eq!(in_order.positions, 5);
        assert_eq!(in_order.last, Some(walk[4]));
    }

    proptest! {
        /// Whatever the phone reports, the length is never more than every step added up
        /// and never less than the way from the first fix to the last that counted.
        #[test]
        fn a_track_is_no_longer_than_its_steps(
            steps in prop::collection::vec((-0.002f64..0.002, -0.002f64..0.002, 0.0f64..60.0), 1..60)
        ) {
            let mut lon = 121.48;
            let mut lat = 31.24;
            let mut fixes = Vec::new();
            for (i, (dlon, dlat, accuracy)) in steps.iter().enumerate() {
                lon += dlon;
                lat += dlat;
                fixes.push(fix(i as i64 * 10, lon, lat, *accuracy));
            }
            let length = track_length_m(&fixes);
            let every_step: f64 = fixes
                .windows(2)
                .map(|w| distance_m(w[0].location, w[1].location))
                .sum();
            prop_assert!(length >= 0.0);
            prop_assert!(length <= every_step + 1e-6, "{} > {}", length, every_step);
            let mut p = patrol();
            p.summarize(&fixes);
            prop_assert_eq!(p.positions as usize, fixes.len());
            prop_assert_eq!(p.distance_m, length);
        }

        /// Fixes that all claim to be within their accuracy of the first never add length.
        #[test]
        fn noise_within_accuracy_is_no_walk(
            noise in prop::collection::vec((-0.0001f64..0.0001, -0.0001f64..0.0001), 1..40)
        ) {
            // 0.0001° is at most about 11 m of latitude and 9.5 m of longitude here: 15 m
            // in each direction covers the diagonal.
            let fixes: Vec<Fix> = noise
                .iter()
                .enumerate()
                .map(|(i, (dlon, dlat))| fix(i as i64 * 10, 121.48 + dlon, 31.24 + dlat, 30.0))
                .collect();
            prop_assert_eq!(track_length_m(&fixes), 0.0);
        }
    }
}
