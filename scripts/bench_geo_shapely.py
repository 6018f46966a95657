"""The reference side of `cityops-bench geo`: the same unit grids and points through shapely 2's
STRtree, one point at a time and batched. Prints one JSON object.

Usage: python3 scripts/bench_geo_shapely.py GRIDS_GEOJSONL POINTS_F64 ONE_AT_A_TIME_COUNT
  GRIDS_GEOJSONL: one GeoJSON geometry per line, in grid order
  POINTS_F64: lon, lat pairs as little-endian f64
Answers per point the index of the containing grid or -1, so the caller can compare.
"""
import json
import sys
import time

import numpy as np
import shapely


def main():
    grids_path, points_path, single_count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(grids_path, encoding="utf-8") as lines:
        polygons = shapely.from_geojson(np.array([line for line in lines], dtype=object))
    xy = np.fromfile(points_path, dtype="<f8").reshape(-1, 2)
    points = shapely.points(xy)

    started = time.perf_counter()
    tree = shapely.STRtree(polygons)
    build_s = time.perf_counter() - started

    # Batched: one call for all points. `within` is the point-in-polygon predicate
    # (`contains` would test whether the point contains the polygon).
    started = time.perf_counter()
    point_index, grid_index = tree.query(points, predicate="within")
    batch_s = time.perf_counter() - started
    found = np.full(len(points), -1, dtype=np.int64)
    # A point on a shared edge is within neither polygon in shapely; inside, exactly one.
    found[point_index] = grid_index

    started = time.perf_counter()
    for point in points[:single_count]:
        tree.query(point, predicate="within")
    single_s = time.perf_counter() - started

    json.dump(
        {
            "shapely": shapely.__version__,
            "build_s": build_s,
            "batch_per_s": len(points) / batch_s,
            "single_per_s": single_count / single_s,
            "found": found.tolist(),
        },
        sys.stdout,
    )


main()
