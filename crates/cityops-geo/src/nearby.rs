//! Things at points, found by how near they are: an R-tree over the points kept beside a map
//! by key, so one thing moves or goes by its key alone. What the open cases near a new report
//! are read from (the likely duplicates), a million of them in a few microseconds instead of a
//! scan.

use std::collections::HashMap;
use std::hash::Hash;

use rstar::primitives::GeomWithData;
use rstar::RTree;

/// Metres per degree of latitude, and of longitude at the equator (a sphere of the WGS-84
/// equatorial radius is exact enough within a city: under 0.5% at 300 m).
const METRES_PER_DEGREE: f64 = 111_319.49;

/// A point in the index's plane: longitude scaled by the cosine of the reference latitude,
/// so that within a city a distance in the plane is a distance on the ground.
type Planar = GeomWithData<[f64; 2], usize>;

/// Things of type `T` at points, each under a key `K`.
#[derive(Debug, Clone)]
pub struct PointIndex<K, T> {
    /// cos(reference latitude): how much shorter a degree of longitude is there.
    shrink: f64,
    tree: RTree<Planar>,
    /// Slot by key; `slots[slot]` holds the key, the point in the plane and the thing. A
    /// removed thing leaves a hole that the next insert fills.
    keys: HashMap<K, usize>,
    slots: Vec<Option<(K, [f64; 2], T)>>,
    holes: Vec<usize>,
}

impl<K: Eq + Hash + Clone, T> PointIndex<K, T> {
    /// An empty index for a city around `latitude` (degrees).
    pub fn new(latitude: f64) -> PointIndex<K, T> {
        PointIndex {
            shrink: latitude.to_radians().cos(),
            tree: RTree::new(),
            keys: HashMap::new(),
            slots: Vec::new(),
            holes: Vec::new(),
        }
    }

    /// An index of `items` (key, longitude, latitude, thing) built at once, which packs the
    /// tree better and faster than inserting them one by one. A key given twice keeps its
    /// last thing.
    pub fn bulk(latitude: f64, items: impl IntoIterator<Item = (K, f64, f64, T)>) -> Self {
        let mut index = PointIndex::new(latitude);
        for (key, lon, lat, thing) in items {
            let point = index.plane(lon, lat);
            match index.keys.get(&key) {
                Some(&slot) => index.slots[slot] = Some((key, point, thing)),
                None => {
                    index.keys.insert(key.clone(), index.slots.len());
                    index.slots.push(Some((key, point, thing)));
                }
            }
        }
        let points = index
            .slots
            .iter()
            .enumerate()
            .filter_map(|(slot, item)| item.as_ref().map(|(_, p, _)| Planar::new(*p, slot)))
            .collect();
        index.tree = RTree::bulk_load(points);
        index
    }

    fn plane(&self, lon: f64, lat: f64) -> [f64; 2] {
        [
            lon * METRES_PER_DEGREE * self.shrink,
            lat * METRES_PER_DEGREE,
        ]
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn get(&self, key: &K) -> Option<&T> {
        let slot = *self.keys.get(key)?;
        self.slots[slot].as_ref().map(|(_, _, thing)| thing)
    }

    /// Puts `thing` at the point under `key`, in place of what the key held.
    pub fn upsert(&mut self, key: K, lon: f64, lat: f64, thing: T) {
        let point = self.plane(lon, lat);
        // A thing that stays where it was (a case changing state) keeps its place in the
        // tree: taking a point out of an R-tree means searching among all at its spot.
        if let Some(&slot) = self.keys.get(&key) {
            if let Some((_, at, held)) = &mut self.slots[slot] {
                if *at == point {
                    *held = thing;
                    return;
                }
            }
        }
        self.remove(&key);
        let slot = match self.holes.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.tree.insert(Planar::new(point, slot));
        self.keys.insert(key.clone(), slot);
        self.slots[slot] = Some((key, point, thing));
    }

    /// Takes out what `key` held, if anything.
    pub fn remove(&mut self, key: &K) -> Option<T> {
        let slot = self.keys.remove(key)?;
        let (_, point, thing) = self.slots[slot].take()?;
        self.tree.remove(&Planar::new(point, slot));
        self.holes.push(slot);
        Some(thing)
    }

    /// Keeps only the things `keep` says so of.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let gone: Vec<K> = self
            .slots
            .iter()
            .flatten()
            .filter(|(_, _, thing)| !keep(thing))
            .map(|(key, _, _)| key.clone())
            .collect();
        for key in gone {
            self.remove(&key);
        }
    }

    /// The things within `radius_m` metres of the point, each with its distance in metres,
    /// in no particular order.
    pub fn within(
        &self,
        lon: f64,
        lat: f64,
        radius_m: f64,
    ) -> impl Iterator<Item = (&K, &T, f64)> + '_ {
        let here = self.plane(lon, lat);
        self.tree
            .locate_within_distance(here, radius_m * radius_m)
            .filter_map(move |found| {
                let (key, point, thing) = self.slots[found.data].as_ref()?;
                let distance = ((point[0] - here[0]).powi(2) + (point[1] - here[1]).powi(2)).sqrt();
                Some((key, thing, distance))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The distance on a sphere, independent of the index's plane.
    fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
        let (lat1, lat2) = (a.1.to_radians(), b.1.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (b.0 - a.0).to_radians();
        let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * 6_371_008.8 * h.sqrt().asin()
    }

    #[test]
    fn things_are_found_within_the_radius_and_moved_or_taken_out_by_key() {
        let mut index = PointIndex::new(31.2);
        index.upsert("a", 121.4919, 31.2150, 1);
        index.upsert("b", 121.4921, 31.2151, 2);
        // Renmin Square, about 2 km away.
        index.upsert("c", 121.4752, 31.2304, 3);
        let mut near: Vec<_> = index
            .within(121.4920, 31.2150, 300.0)
            .map(|(k, t, d)| (*k, *t, d.round()))
            .collect();
        near.sort_by(|a, b| a.0.cmp(b.0));
        assert_eq!(near, [("a", 1, 10.0), ("b", 2, 15.0)]);
        index.upsert("a", 121.4752, 31.2304, 10);
        assert_eq!(index.within(121.4920, 31.2150, 300.0).count(), 1);
        assert_eq!(index.remove(&"b"), Some(2));
        assert_eq!(index.remove(&"b"), None);
        assert_eq!(index.within(121.4920, 31.2150, 300.0).count(), 0);
        assert_eq!(index.len(), 2);
        assert_eq!(index.get(&"a"), Some(&10));
        index.retain(|t| *t != 3);
        assert_eq!(index.len(), 1);
        assert!(index.get(&"c").is_none());
    }

    proptest! {
        /// Whatever was put, moved, changed in place and taken out, the index finds exactly
        /// what a scan of the things' true distances finds (beyond a margin of 0.5% for the
        /// plane), and holds each key's last thing.
        #[test]
        fn the_index_finds_what_a_scan_finds(
            steps in prop::collection::vec(
                (0u8..20, 121.40..121.60f64, 31.10..31.30f64, 0u8..10),
                1..200,
            ),
            probe in (121.40..121.60f64, 31.10..31.30f64),
            radius in 10.0..3000.0f64,
            bulk in any::<bool>(),
        ) {
            // key -> (lon, lat, the step that put its thing)
            let mut truth: HashMap<u8, (f64, f64, usize)> = HashMap::new();
            let mut index = PointIndex::new(31.2);
            for (step, (key, lon, lat, what)) in steps.iter().enumerate() {
                match what {
                    0 | 1 => {
                        truth.remove(key);
                        index.remove(key);
                    }
                    // The same key again at its own point: its thing changes, not its place.
                    2..=4 if truth.contains_key(key) => {
                        let (lon, lat, _) = truth[key];
                        truth.insert(*key, (lon, lat, step));
                        index.upsert(*key, lon, lat, (lon, lat, step));
                    }
                    _ => {
                        truth.insert(*key, (*lon, *lat, step));
                        index.upsert(*key, *lon, *lat, (*lon, *lat, step));
                    }
                }
            }
            if bulk {
                index = PointIndex::bulk(31.2, truth.iter().map(|(k, p)| (*k, p.0, p.1, *p)));
            }
            for (key, held) in &truth {
                prop_assert_eq!(index.get(key), Some(held));
            }
            prop_assert_eq!(index.len(), truth.len());
            let found: HashMap<u8, f64> = index
                .within(probe.0, probe.1, radius)
                .map(|(k, _, d)| (*k, d))
                .collect();
            for (key, (lon, lat, _)) in &truth {
                let d = haversine(probe, (*lon, *lat));
                if d < radius * 0.995 {
                    prop_assert!(found.contains_key(key), "{} at {} m missed", key, d);
                } else if d > radius * 1.005 {
                    prop_assert!(!found.contains_key(key), "{} at {} m found", key, d);
                }
                if let Some(planar) = found.get(key) {
                    prop_assert!((planar - d).abs() <= d * 0.005 + 0.01, "{} vs {}", planar, d);
                }
            }
        }
    }
}
