//! The generated city below district level. There are no public street, community or
//! unit-grid polygons for Shanghai, so they are generated reproducibly from a seed inside the
//! real district boundaries:
//!
//! 1. Each district is covered by a lattice of square cells (100 m in the dense centre, larger
//!    outside), clipped to the district polygon: together the cells tile the district exactly,
//!    holes and islands included, with no overlap and no gap.
//! 2. Cells are clustered into as many streets as the district really has (weighted k-means,
//!    so streets come out compact and of plausible size), then each street's cells into as many
//!    communities as the street has.
//! 3. A unit grid is one cell, or a block of cells where a community would otherwise exceed
//!    the 99 grids its two-digit sequence allows. Grids are numbered west to east, north to
//!    south within their community: `district(6) street(3) community(3) sequence(2)`.
//! 4. Responsibility grids group up to 30 consecutive unit grids of a street for one inspector.
//!
//! Street and community shapes are unions of their cells, so the levels nest exactly.

use geo::{
    BooleanOps, BoundingRect, ChamberlainDuquetteArea, Contains, Coord, Intersects, LineString,
    MultiPolygon, Point, Polygon, Rect,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use std::collections::BTreeMap;

use crate::Boundaries;

/// What to generate inside one district: its cell size and its real streets and communities.
#[derive(Debug, Clone)]
pub struct DistrictPlan {
    pub code: String,
    pub cell_metres: f64,
    pub streets: Vec<StreetPlan>,
}

#[derive(Debug, Clone)]
pub struct StreetPlan {
    pub code: String,
    pub communities: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GenerateError {
    #[error("district {0} has no boundary")]
    NoBoundary(String),
    #[error("district {district}: street {street} got {cells} cells for {communities} communities; use smaller cells")]
    TooFewCells {
        district: String,
        street: String,
        cells: usize,
        communities: usize,
    },
    #[error("district {0} has no street to generate")]
    NoStreets(String),
}

/// An area of the generated tree: street or community.
#[derive(Debug, Clone)]
pub struct Region {
    pub code: String,
    pub shape: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
}

/// 单元网格: the smallest unit of city management, about 10,000 m² in the centre.
#[derive(Debug, Clone)]
pub struct UnitGrid {
    /// 14 digits: district 6 + street 3 + community 3 + sequence 2.
    pub code: String,
    pub community: String,
    pub street: String,
    pub district: String,
    /// The responsibility grid (责任网格) of one inspector.
    pub responsibility_grid: String,
    pub shape: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
    pub area_m2: f64,
    /// The grid is exactly its bounding box (a whole lattice cell or block): point-in-grid
    /// is then a comparison of coordinates.
    pub is_box: bool,
    /// The lattice cells of the grid that lie wholly inside its district.
    interior_cells: Vec<(usize, usize)>,
    /// Which district lattice those cells are of.
    lattice: usize,
}

/// The generated geography of a city and its point-location index.
#[derive(Clone)]
pub struct Geography {
    pub streets: Vec<Region>,
    pub communities: Vec<Region>,
    pub grids: Vec<UnitGrid>,
    index: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    lattices: Vec<Lattice>,
    directory: Directory,
    /// Responsibility grids as the union of their unit grids, computed on first use.
    responsibility: std::sync::OnceLock<Vec<Region>>,
}

/// A district's cell lattice: for a point in a cell wholly inside the district, the grid is
/// found by arithmetic. Cells on the boundary (clipped) are left to the R-tree.
#[derive(Clone)]
struct Lattice {
    west: f64,
    north: f64,
    dx: f64,
    dy: f64,
    rows: usize,
    cols: usize,
    /// Grid index per cell, row-major; `NOT_INTERIOR` where the R-tree must decide.
    cells: Vec<u32>,
}

const NOT_INTERIOR: u32 = u32::MAX;

/// A raster over the whole city (2048 x 2048 cells of about 60 m in Shanghai) that answers
/// most points with one memory read: the grid itself where the raster cell lies strictly
/// inside one interior lattice cell, nowhere where no grid's bounding box reaches (the sea,
/// the neighbouring provinces), else which district lattice to try, so a lookup tries one
/// lattice instead of all of them before the R-tree.
#[derive(Clone)]
struct Directory {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
    dx: f64,
    dy: f64,
    cols: usize,
    rows: usize,
    cells: Vec<u32>,
}

/// No grid reaches the cell.
const NOWHERE: u32 = u32::MAX;
/// Several lattices reach the cell: try each.
const SEVERAL_LATTICES: u32 = u32::MAX - 1;
/// No lattice reaches the cell: the R-tree decides.
const NO_LATTICE: u32 = u32::MAX - 2;
/// `LATTICE + k`: try lattice k. Below it, a value is the grid's index.
const LATTICE: u32 = 0xF000_0000;
const DIRECTORY_SIDE: usize = 2048;
/// A raster cell answers directly only this far (as a fraction of a lattice cell) from the
/// lattice cell's edges, so rounding never puts an edge point in the wrong grid.
const DIRECT_MARGIN: f64 = 1e-6;

impl Directory {
    fn build(grids: &[UnitGrid], lattices: &[Lattice]) -> Directory {
        let (mut west, mut south, mut east, mut north) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for g in grids {
            west = west.min(g.bbox.min().x);
            south = south.min(g.bbox.min().y);
            east = east.max(g.bbox.max().x);
            north = north.max(g.bbox.max().y);
        }
        if grids.is_empty() {
            (west, south, east, north) = (0.0, 0.0, 0.0, 0.0);
        }
        let (cols, rows) = (DIRECTORY_SIDE, DIRECTORY_SIDE);
        let dx = ((east - west) / cols as f64).max(f64::MIN_POSITIVE);
        let dy = ((north - south) / rows as f64).max(f64::MIN_POSITIVE);
        let mut directory = Directory {
            west,
            south,
            east,
            north,
            dx,
            dy,
            cols,
            rows,
            cells: vec![NOWHERE; cols * rows],
        };
        let mut reached = vec![false; cols * rows];
        for g in grids {
            directory.for_cells(
                g.bbox.min().x,
                g.bbox.min().y,
                g.bbox.max().x,
                g.bbox.max().y,
                |i| reached[i] = true,
            );
        }
        let mut lattice_of = vec![NO_LATTICE; cols * rows];
        // A lattice can only answer where it has interior cells; districts are disjoint, so
        // most raster cells meet the interior cells of one lattice at most.
        for (k, l) in lattices.iter().enumerate() {
            let lattice = LATTICE + k as u32;
            for row in 0..l.rows {
                for col in 0..l.cols {
                    if l.cells[row * l.cols + col] == NOT_INTERIOR {
                        continue;
                    }
                    let x0 = l.west + col as f64 * l.dx;
                    let y1 = l.north - row as f64 * l.dy;
                    directory.for_cells(x0, y1 - l.dy, x0 + l.dx, y1, |i| {
                        lattice_of[i] = match lattice_of[i] {
                            NO_LATTICE => lattice,
                            same if same == lattice => lattice,
                            _ => SEVERAL_LATTICES,
                        }
                    });
                }
            }
        }
        for i in 0..cols * rows {
            if !reached[i] {
                continue;
            }
            directory.cells[i] = match lattice_of[i] {
                k if (LATTICE..NO_LATTICE).contains(&k) => {
                    let lattice = &lattices[(k - LATTICE) as usize];
                    directory.direct(i, lattice).map_or(k, |grid| grid as u32)
                }
                other => other,
            };
        }
        directory
    }

    /// The grid of every point of raster cell `i`, when the cell lies strictly inside one
    /// interior cell of the lattice.
    fn direct(&self, i: usize, lattice: &Lattice) -> Option<usize> {
        let (col, row) = (i % self.cols, i / self.cols);
        let x0 = self.west + col as f64 * self.dx;
        let y0 = self.south + row as f64 * self.dy;
        let (x1, y1) = (x0 + self.dx, y0 + self.dy);
        let fx = |x: f64| (x - lattice.west) / lattice.dx;
        let fy = |y: f64| (lattice.north - y) / lattice.dy;
        let (a, b) = (fx(x0), fx(x1));
        let (c, d) = (fy(y1), fy(y0));
        let inside = |lo: f64, hi: f64| {
            lo >= 0.0
                && lo.floor() == hi.floor()
                && lo - lo.floor() >= DIRECT_MARGIN
                && hi - hi.floor() <= 1.0 - DIRECT_MARGIN
        };
        if !(inside(a, b) && inside(c, d)) {
            return None;
        }
        let (lcol, lrow) = (a as usize, c as usize);
        if lcol >= lattice.cols || lrow >= lattice.rows {
            return None;
        }
        match lattice.cells[lrow * lattice.cols + lcol] {
            NOT_INTERIOR => None,
            grid if grid < LATTICE => Some(grid as usize),
            _ => None,
        }
    }

    /// The cell of a point, `None` outside the directory. Monotonic in each coordinate, so
    /// a point inside a box always falls in one of the cells the box was marked in.
    fn cell(&self, lon: f64, lat: f64) -> Option<usize> {
        if !(lon >= self.west && lon <= self.east && lat >= self.south && lat <= self.north) {
            return None;
        }
        let col = (((lon - self.west) / self.dx) as usize).min(self.cols - 1);
        let row = (((lat - self.south) / self.dy) as usize).min(self.rows - 1);
        Some(row * self.cols + col)
    }

    fn for_cells(&self, x0: f64, y0: f64, x1: f64, y1: f64, mut mark: impl FnMut(usize)) {
        let clamp = |v: f64, lo: f64, hi: f64| v.max(lo).min(hi);
        let (x0, x1) = (
            clamp(x0, self.west, self.east),
            clamp(x1, self.west, self.east),
        );
        let (y0, y1) = (
            clamp(y0, self.south, self.north),
            clamp(y1, self.south, self.north),
        );
        if x0 > x1 || y0 > y1 {
            return;
        }
        let (Some(first), Some(last)) = (self.cell(x0, y0), self.cell(x1, y1)) else {
            return;
        };
        let (c0, r0) = (first % self.cols, first / self.cols);
        let (c1, r1) = (last % self.cols, last / self.cols);
        for row in r0..=r1 {
            for col in c0..=c1 {
                mark(row * self.cols + col);
            }
        }
    }

    fn hint(&self, lon: f64, lat: f64) -> u32 {
        self.cell(lon, lat).map_or(NOWHERE, |i| self.cells[i])
    }
}

impl Lattice {
    fn grid_at(&self, lon: f64, lat: f64) -> Option<usize> {
        let fx = (lon - self.west) / self.dx;
        let fy = (self.north - lat) / self.dy;
        if !(fx >= 0.0 && fy >= 0.0) {
            return None;
        }
        // A point on a line between cells belongs to several grids: the R-tree decides.
        let near_line = |f: f64| {
            let frac = f - f.floor();
            !(1e-9..=1.0 - 1e-9).contains(&frac)
        };
        if near_line(fx) || near_line(fy) {
            return None;
        }
        let (col, row) = (fx as usize, fy as usize);
        if col >= self.cols || row >= self.rows {
            return None;
        }
        match self.cells[row * self.cols + col] {
            NOT_INTERIOR => None,
            index => Some(index as usize),
        }
    }
}

impl std::fmt::Debug for Geography {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Geography({} streets, {} communities, {} unit grids)",
            self.streets.len(),
            self.communities.len(),
            self.grids.len()
        )
    }
}

struct Cell {
    row: usize,
    col: usize,
    /// Wholly inside the district, not clipped.
    interior: bool,
    shape: MultiPolygon<f64>,
    /// Centre in local metres (x east, y north), for clustering.
    x: f64,
    y: f64,
    area_m2: f64,
}

const METRES_PER_DEGREE: f64 = 111_320.0;
const MAX_GRIDS_PER_COMMUNITY: usize = 99;
const GRIDS_PER_INSPECTOR: usize = 30;

fn envelope(rect: &Rect<f64>) -> AABB<[f64; 2]> {
    AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y])
}

/// Covers a district with square cells clipped to its boundary.
fn cells_of(
    district: &MultiPolygon<f64>,
    bbox: Rect<f64>,
    cell_metres: f64,
) -> (Vec<Cell>, Lattice) {
    let lat0 = (bbox.min().y + bbox.max().y) / 2.0;
    let cos = lat0.to_radians().cos();
    let dy = cell_metres / METRES_PER_DEGREE;
    let dx = cell_metres / (METRES_PER_DEGREE * cos);
    // Boundary segments, to tell cells that cross the boundary (clipped) from the rest.
    let segments: Vec<Rectangle<[f64; 2]>> = district
        .iter()
        .flat_map(|polygon| std::iter::once(polygon.exterior()).chain(polygon.interiors()))
        .flat_map(|ring| ring.lines())
        .map(|line| Rectangle::from_corners([line.start.x, line.start.y], [line.end.x, line.end.y]))
        .collect();
    let edges = RTree::bulk_load(segments);
    let cols = ((bbox.max().x - bbox.min().x) / dx).ceil() as usize;
    let rows = ((bbox.max().y - bbox.min().y) / dy).ceil() as usize;
    let mut cells = Vec::new();
    for row in 0..rows {
        for col in 0..cols {
            let min = Coord {
                x: bbox.min().x + col as f64 * dx,
                y: bbox.max().y - (row + 1) as f64 * dy,
            };
            let square = Rect::new(
                min,
                Coord {
                    x: min.x + dx,
                    y: min.y + dy,
                },
            );
            let crosses = edges
                .locate_in_envelope_intersecting(&envelope(&square))
                .next()
                .is_some();
            let shape = if crosses {
                let clipped = district.intersection(&MultiPolygon::new(vec![square.to_polygon()]));
                if clipped.0.is_empty() {
                    continue;
                }
                clipped
            } else if district.contains(&square.center()) {
                MultiPolygon::new(vec![square.to_polygon()])
            } else {
                continue;
            };
            let area_m2 = shape.chamberlain_duquette_unsigned_area();
            if area_m2 < 1.0 {
                continue;
            }
            let centre = square.center();
            cells.push(Cell {
                row,
                col,
                interior: !crosses,
                shape,
                x: (centre.x - bbox.min().x) * METRES_PER_DEGREE * cos,
                y: (centre.y - bbox.min().y) * METRES_PER_DEGREE,
                area_m2,
            });
        }
    }
    let lattice = Lattice {
        west: bbox.min().x,
        north: bbox.max().y,
        dx,
        dy,
        rows,
        cols,
        cells: vec![NOT_INTERIOR; rows * cols],
    };
    (cells, lattice)
}

/// Weighted k-means of cells into `k` compact clusters; every cluster gets at least one cell.
fn cluster(cells: &[&Cell], k: usize, rng: &mut StdRng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.shuffle(rng);
    let mut centres: Vec<(f64, f64)> = order
        .iter()
        .take(k)
        .map(|&i| (cells[i].x, cells[i].y))
        .collect();
    let mut assignment = vec![0; cells.len()];
    for _ in 0..6 {
        for (i, cell) in cells.iter().enumerate() {
            assignment[i] = nearest(&centres, cell.x, cell.y);
        }
        let mut sums = vec![(0.0, 0.0, 0.0); k];
        for (i, cell) in cells.iter().enumerate() {
            let s = &mut sums[assignment[i]];
            s.0 += cell.x * cell.area_m2;
            s.1 += cell.y * cell.area_m2;
            s.2 += cell.area_m2;
        }
        for (c, (x, y, w)) in sums.into_iter().enumerate() {
            if w > 0.0 {
                centres[c] = (x / w, y / w);
            }
        }
    }
    for (i, cell) in cells.iter().enumerate() {
        assignment[i] = nearest(&centres, cell.x, cell.y);
    }
    // An empty cluster takes the cell farthest from its own centre in the largest cluster.
    loop {
        let mut counts = vec![0usize; k];
        for &a in &assignment {
            counts[a] += 1;
        }
        let Some(empty) = counts.iter().position(|&n| n == 0) else {
            break;
        };
        let largest = (0..k).max_by_key(|&c| counts[c]).unwrap_or(0);
        let (cx, cy) = centres[largest];
        let farthest = (0..cells.len())
            .filter(|&i| assignment[i] == largest)
            .max_by(|&a, &b| {
                let da = (cells[a].x - cx).powi(2) + (cells[a].y - cy).powi(2);
                let db = (cells[b].x - cx).powi(2) + (cells[b].y - cy).powi(2);
                da.total_cmp(&db)
            })
            .unwrap_or(0);
        assignment[farthest] = empty;
        centres[empty] = (cells[farthest].x, cells[farthest].y);
    }
    assignment
}

fn nearest(centres: &[(f64, f64)], x: f64, y: f64) -> usize {
    centres
        .iter()
        .enumerate()
        .min_by(|a, b| {
            let da = (a.1 .0 - x).powi(2) + (a.1 .1 - y).powi(2);
            let db = (b.1 .0 - x).powi(2) + (b.1 .1 - y).powi(2);
            da.total_cmp(&db)
        })
        .map_or(0, |(i, _)| i)
}

fn grid_index(grids: &[UnitGrid]) -> RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> {
    RTree::bulk_load(
        grids
            .iter()
            .enumerate()
            .map(|(i, g)| {
                GeomWithData::new(
                    Rectangle::from_corners(
                        [g.bbox.min().x, g.bbox.min().y],
                        [g.bbox.max().x, g.bbox.max().y],
                    ),
                    i,
                )
            })
            .collect(),
    )
}

impl UnitGrid {
    /// An imported unit grid: its code says its community, street and district.
    pub fn imported(
        code: &str,
        responsibility_grid: &str,
        shape: MultiPolygon<f64>,
    ) -> Option<UnitGrid> {
        let bbox = shape.bounding_rect()?;
        (code.len() == 14).then(|| UnitGrid {
            code: code.to_owned(),
            community: code[..12].to_owned(),
            street: code[..9].to_owned(),
            district: code[..6].to_owned(),
            responsibility_grid: responsibility_grid.to_owned(),
            area_m2: shape.chamberlain_duquette_unsigned_area(),
            is_box: is_box(&shape, &bbox),
            interior_cells: Vec::new(),
            lattice: usize::MAX,
            shape,
            bbox,
        })
    }
}

fn is_box(shape: &MultiPolygon<f64>, bbox: &Rect<f64>) -> bool {
    use geo::Area;
    match shape.0.as_slice() {
        [polygon] => {
            polygon.interiors().is_empty()
                && (polygon.unsigned_area() - bbox.to_polygon().unsigned_area()).abs()
                    <= 1e-9 * bbox.to_polygon().unsigned_area()
        }
        _ => false,
    }
}

/// The union of touching shapes: one boolean operation over all of them.
fn dissolve(shapes: impl IntoIterator<Item = MultiPolygon<f64>>) -> MultiPolygon<f64> {
    let all = MultiPolygon::new(shapes.into_iter().flat_map(|m| m.0).collect());
    all.union(&MultiPolygon::new(Vec::new()))
}

fn seed_for(seed: u64, code: &str) -> u64 {
    // FNV-1a: stable across Rust versions, unlike the std hasher.
    code.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Geography {
    /// Generates streets, communities and unit grids inside `districts` by `plans`.
    pub fn generate(
        districts: &Boundaries,
        plans: &[DistrictPlan],
        seed: u64,
    ) -> Result<Geography, GenerateError> {
        let mut streets = Vec::new();
        let mut communities = Vec::new();
        let mut grids = Vec::new();
        // Published district outlines are simplified one by one and overlap a little along
        // shared borders. Each district keeps only what no lower-coded district has (the
        // same rule as locating a point on a shared edge), so grids never overlap.
        let mut plans: Vec<&DistrictPlan> = plans.iter().collect();
        plans.sort_by(|a, b| a.code.cmp(&b.code));
        let mut claimed = MultiPolygon::new(Vec::new());
        let mut lattices: Vec<Lattice> = Vec::new();
        for plan in plans {
            let district = districts
                .areas()
                .iter()
                .find(|b| b.code == plan.code)
                .ok_or_else(|| GenerateError::NoBoundary(plan.code.clone()))?;
            let own = district.shape.difference(&claimed);
            claimed = claimed.union(&district.shape);
            let Some(own_bbox) = own.bounding_rect() else {
                continue;
            };
            if plan.streets.is_empty() {
                return Err(GenerateError::NoStreets(plan.code.clone()));
            }
            let mut rng = StdRng::seed_from_u64(seed_for(seed, &plan.code));
            let (cells, lattice) = cells_of(&own, own_bbox, plan.cell_metres);
            let lattice_index = lattices.len();
            lattices.push(lattice);
            let all: Vec<&Cell> = cells.iter().collect();
            let street_of = cluster(&all, plan.streets.len(), &mut rng);
            // Clusters take the real streets' codes in order: a generated street has a real
            // street's code and name, not its real place.
            for (s, street) in plan.streets.iter().enumerate() {
                let street_cells: Vec<&Cell> = cells
                    .iter()
                    .zip(&street_of)
                    .filter(|(_, &a)| a == s)
                    .map(|(c, _)| c)
                    .collect();
                if street_cells.len() < street.communities.len() {
                    return Err(GenerateError::TooFewCells {
                        district: plan.code.clone(),
                        street: street.code.clone(),
                        cells: street_cells.len(),
                        communities: street.communities.len(),
                    });
                }
                let community_of = cluster(&street_cells, street.communities.len(), &mut rng);
                let mut street_grids: Vec<UnitGrid> = Vec::new();
                for (c, community) in street.communities.iter().enumerate() {
                    let mut members: Vec<&Cell> = street_cells
                        .iter()
                        .zip(&community_of)
                        .filter(|(_, &a)| a == c)
                        .map(|(cell, _)| *cell)
                        .collect();
                    members.sort_by_key(|cell| (cell.row, cell.col));
                    // Blocks of f x f cells when one cell per grid would overflow the sequence.
                    let mut factor = 1;
                    let blocks = loop {
                        let mut blocks: BTreeMap<(usize, usize), Vec<&Cell>> = BTreeMap::new();
                        for cell in &members {
                            blocks
                                .entry((cell.row / factor, cell.col / factor))
                                .or_default()
                                .push(cell);
                        }
                        if blocks.len() <= MAX_GRIDS_PER_COMMUNITY {
                            break blocks;
                        }
                        factor += 1;
                    };
                    let mut shapes = Vec::new();
                    for (sequence, block) in blocks.values().enumerate() {
                        let shape = if block.len() == 1 {
                            block[0].shape.clone()
                        } else {
                            dissolve(block.iter().map(|c| c.shape.clone()))
                        };
                        let bbox = shape.bounding_rect().unwrap_or_else(|| {
                            Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 })
                        });
                        shapes.push(shape.clone());
                        street_grids.push(UnitGrid {
                            code: format!("{community}{:02}", sequence + 1),
                            community: community.clone(),
                            street: street.code.clone(),
                            district: plan.code.clone(),
                            responsibility_grid: String::new(),
                            area_m2: block.iter().map(|c| c.area_m2).sum(),
                            is_box: is_box(&shape, &bbox),
                            interior_cells: block
                                .iter()
                                .filter(|c| c.interior)
                                .map(|c| (c.row, c.col))
                                .collect(),
                            lattice: lattice_index,
                            shape,
                            bbox,
                        });
                    }
                    let shape = dissolve(shapes);
                    if let Some(bbox) = shape.bounding_rect() {
                        communities.push(Region {
                            code: community.clone(),
                            shape,
                            bbox,
                        });
                    }
                }
                for (i, grid) in street_grids.iter_mut().enumerate() {
                    grid.responsibility_grid =
                        format!("R{}{:03}", street.code, i / GRIDS_PER_INSPECTOR + 1);
                }
                let shape = dissolve(street_cells.iter().map(|c| c.shape.clone()));
                if let Some(bbox) = shape.bounding_rect() {
                    streets.push(Region {
                        code: street.code.clone(),
                        shape,
                        bbox,
                    });
                }
                grids.extend(street_grids);
            }
        }
        grids.sort_by(|a, b| a.code.cmp(&b.code));
        for (index, grid) in grids.iter().enumerate() {
            let lattice = &mut lattices[grid.lattice];
            for &(row, col) in &grid.interior_cells {
                lattice.cells[row * lattice.cols + col] = index as u32;
            }
        }
        let index = grid_index(&grids);
        let directory = Directory::build(&grids, &lattices);
        Ok(Geography {
            directory,
            lattices,
            streets,
            communities,
            grids,
            index,
            responsibility: std::sync::OnceLock::new(),
        })
    }

    /// The geography with some levels replaced by imported ones. Replacing the unit grids
    /// rebuilds the index (R-tree only: the lattice shortcut belongs to generated grids).
    pub fn with_levels(
        &self,
        streets: Option<Vec<Region>>,
        communities: Option<Vec<Region>>,
        grids: Option<Vec<UnitGrid>>,
    ) -> Geography {
        let mut next = self.clone();
        if let Some(mut streets) = streets {
            streets.sort_by(|a, b| a.code.cmp(&b.code));
            next.streets = streets;
        }
        if let Some(mut communities) = communities {
            communities.sort_by(|a, b| a.code.cmp(&b.code));
            next.communities = communities;
        }
        if let Some(mut grids) = grids {
            grids.sort_by(|a, b| a.code.cmp(&b.code));
            next.lattices = Vec::new();
            next.directory = Directory::build(&grids, &[]);
            next.index = grid_index(&grids);
            next.grids = grids;
            next.responsibility = std::sync::OnceLock::new();
        }
        next
    }

    /// The unit grid containing the point (WGS-84). A point on an edge shared by several
    /// grids goes to the lowest code; `None` outside every grid.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<&UnitGrid> {
        self.locate_index(lon, lat).map(|i| &self.grids[i])
    }

    /// Like [`Geography::locate`], the grid's position in [`Geography::grids`]. Grids are
    /// sorted by code, so the lowest index is the lowest code.
    pub fn locate_index(&self, lon: f64, lat: f64) -> Option<usize> {
        // Most points lie in a cell wholly inside a district: no geometry needed.
        let found = match self.directory.hint(lon, lat) {
            NOWHERE => return None,
            NO_LATTICE => None,
            SEVERAL_LATTICES => self.lattices.iter().find_map(|l| l.grid_at(lon, lat)),
            k if k >= LATTICE => self.lattices[(k - LATTICE) as usize].grid_at(lon, lat),
            grid => return Some(grid as usize),
        };
        if found.is_some() {
            return found;
        }
        let point = Point::new(lon, lat);
        self.index
            .locate_all_at_point(&[lon, lat])
            .map(|entry| entry.data)
            .filter(|&i| {
                let grid = &self.grids[i];
                // The R-tree already matched the envelope, boundary included.
                grid.is_box || grid.shape.intersects(&point)
            })
            .min()
    }

    /// Unit grids whose bounding box meets the box.
    pub fn grids_in(&self, min: (f64, f64), max: (f64, f64)) -> impl Iterator<Item = &UnitGrid> {
        self.index
            .locate_in_envelope_intersecting(&AABB::from_corners([min.0, min.1], [max.0, max.1]))
            .map(|entry| &self.grids[entry.data])
    }

    /// The streets (街道/镇 codes) with a unit grid that the polygon `ring` (closed,
    /// WGS-84 longitude and latitude) touches, in code order: where a zone drawn on the map
    /// lies in the city's areas.
    pub fn streets_touching(&self, ring: &[[f64; 2]]) -> Vec<String> {
        let zone = Polygon::new(
            LineString::from(ring.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>()),
            Vec::new(),
        );
        let Some(bbox) = zone.bounding_rect() else {
            return Vec::new();
        };
        let mut streets: Vec<String> = self
            .grids_in(bbox.min().x_y(), bbox.max().x_y())
            .filter(|g| g.shape.intersects(&zone))
            .map(|g| g.street.clone())
            .collect();
        streets.sort();
        streets.dedup();
        streets
    }

    /// The unit grid of a code.
    pub fn grid(&self, code: &str) -> Option<&UnitGrid> {
        self.grids
            .binary_search_by(|g| g.code.as_str().cmp(code))
            .ok()
            .map(|i| &self.grids[i])
    }

    /// The unit grids of a community (codes start with the community's).
    pub fn grids_in_community<'a>(
        &'a self,
        community: &'a str,
    ) -> impl Iterator<Item = &'a UnitGrid> + 'a {
        let start = self.grids.partition_point(|g| g.code.as_str() < community);
        self.grids[start..]
            .iter()
            .take_while(move |g| g.community == community)
    }

    /// The responsibility grids (责任网格), each the union of its unit grids, in code order.
    pub fn responsibility_grids(&self) -> &[Region] {
        self.responsibility.get_or_init(|| {
            let mut groups: BTreeMap<&str, Vec<MultiPolygon<f64>>> = BTreeMap::new();
            for grid in &self.grids {
                groups
                    .entry(grid.responsibility_grid.as_str())
                    .or_default()
                    .push(grid.shape.clone());
            }
            groups
                .into_iter()
                .filter_map(|(code, shapes)| {
                    let shape = dissolve(shapes);
                    let bbox = shape.bounding_rect()?;
                    Some(Region {
                        code: code.to_owned(),
                        shape,
                        bbox,
                    })
                })
                .collect()
        })
    }

    pub fn street(&self, code: &str) -> Option<&Region> {
        self.streets.iter().find(|r| r.code == code)
    }

    pub fn community(&self, code: &str) -> Option<&Region> {
        self.communities.iter().find(|r| r.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn square_district() -> Boundaries {
        // About 2.2 km x 2.2 km near People's Square, with a hole (a lake).
        Boundaries::from_geojson(
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"310101","name":"测试区"},
            "geometry":{"type":"Polygon","coordinates":[[[121.46,31.22],[121.483,31.22],[121.483,31.24],[121.46,31.24],[121.46,31.22]],
            [[121.47,31.228],[121.473,31.228],[121.473,31.231],[121.47,31.231],[121.47,31.228]]]}}]}"#,
        )
        .unwrap()
    }

    fn plan() -> Vec<DistrictPlan> {
        vec![DistrictPlan {
            code: "310101".into(),
            cell_metres: 100.0,
            streets: (1..=3)
                .map(|s| StreetPlan {
                    code: format!("310101{s:03}"),
                    communities: (1..=4).map(|c| format!("310101{s:03}{c:03}")).collect(),
                })
                .collect(),
        }]
    }

    #[test]
    fn every_point_of_the_district_resolves_to_exactly_one_grid_of_it() {
        let boundaries = square_district();
        let geography = Geography::generate(&boundaries, &plan(), 7).unwrap();
        assert!(geography.grids.len() > 300, "{:?}", geography);
        assert_eq!(geography.streets.len(), 3);
        assert_eq!(geography.communities.len(), 12);
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..5000 {
            let (lon, lat) = (rng.gen_range(121.46..121.483), rng.gen_range(31.22..31.24));
            let point = Point::new(lon, lat);
            let in_lake = (121.47..=121.473).contains(&lon) && (31.228..=31.231).contains(&lat);
            let containing: Vec<&UnitGrid> = geography
                .grids
                .iter()
                .filter(|g| g.shape.contains(&point))
                .collect();
            if in_lake {
                assert!(geography.locate(lon, lat).is_none() || containing.is_empty());
                continue;
            }
            assert!(
                containing.len() <= 1,
                "{lon},{lat} lies in {} grids",
                containing.len()
            );
            let found = geography
                .locate(lon, lat)
                .unwrap_or_else(|| panic!("{lon},{lat} is in no grid"));
            if let Some(only) = containing.first() {
                assert_eq!(found.code, only.code);
            }
            assert!(
                found.code.starts_with(&found.community)
                    && found.community.starts_with(&found.street)
            );
            assert!(geography
                .community(&found.community)
                .unwrap()
                .shape
                .intersects(&point));
            assert!(geography
                .street(&found.street)
                .unwrap()
                .shape
                .intersects(&point));
        }
        assert!(
            geography.locate(121.50, 31.23).is_none(),
            "outside the district"
        );
    }

    #[test]
    fn grids_tile_the_district_area_and_codes_are_unique_and_well_formed() {
        let boundaries = square_district();
        let geography = Geography::generate(&boundaries, &plan(), 7).unwrap();
        let district_area = boundaries.areas()[0]
            .shape
            .chamberlain_duquette_unsigned_area();
        let grid_area: f64 = geography.grids.iter().map(|g| g.area_m2).sum();
        assert!(
            (grid_area - district_area).abs() / district_area < 1e-6,
            "{grid_area} vs {district_area}"
        );
        let mut codes: Vec<&str> = geography.grids.iter().map(|g| g.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), geography.grids.len());
        assert!(codes
            .iter()
            .all(|c| c.len() == 14 && c.bytes().all(|b| b.is_ascii_digit())));
        let interior = geography
            .grids
            .iter()
            .filter(|g| (g.area_m2 - 10_000.0).abs() < 200.0)
            .count();
        assert!(
            interior * 2 > geography.grids.len(),
            "most grids are whole 100 m cells"
        );
    }

    #[test]
    fn generation_is_reproducible_from_the_seed() {
        let boundaries = square_district();
        let a = Geography::generate(&boundaries, &plan(), 7).unwrap();
        let b = Geography::generate(&boundaries, &plan(), 7).unwrap();
        let c = Geography::generate(&boundaries, &plan(), 8).unwrap();
        let codes = |g: &Geography| {
            g.grids
                .iter()
                .map(|x| (x.code.clone(), x.bbox.min().x.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&a), codes(&b));
        assert_ne!(codes(&a), codes(&c));
    }
}
