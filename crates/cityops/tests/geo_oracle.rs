//! Point location checked against an independent oracle: shapely 2 (GEOS) on the same
//! polygons and 100,000 random points. Needs python3 with shapely; CI installs it and sets
//! CITYOPS_REQUIRE_SHAPELY=1 so the check cannot be skipped there.

#[test]
fn locating_100000_random_points_agrees_with_shapely_everywhere() {
    let report = cityops::bench::bench_geo(100_000, 100).unwrap();
    for line in &report.lines {
        eprintln!("{line}");
    }
    assert!(
        report.inside > 40_000,
        "most of the box is city: {}",
        report.inside
    );
    match report.disagreements {
        Some(disagreements) => assert_eq!(disagreements, 0),
        None => assert!(
            std::env::var("CITYOPS_REQUIRE_SHAPELY").as_deref() != Ok("1"),
            "CITYOPS_REQUIRE_SHAPELY=1 but the shapely oracle did not run: {:?}",
            report.lines.last()
        ),
    }
}
