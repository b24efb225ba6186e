"""The Yangtze River Delta as the map draws it: the cities' positions (longitude, latitude),
a simplified outline of the land and the river, projected onto the SVG's plane. Shipped with
the portal, so the map needs nothing from the internet."""

from __future__ import annotations

import math

WEST, NORTH = 116.8, 32.8  # the map's top-left corner
X_PER_DEGREE = 160.0
Y_PER_DEGREE = X_PER_DEGREE / math.cos(math.radians(31.0))  # equal-area near 31°N
WIDTH, HEIGHT = 864, 748

# The alliance's regions sit at these cities; the others give the map its bearings.
REGION_CITIES = {"sh": (121.47, 31.23), "hz": (120.16, 30.27), "zjg": (120.55, 31.87)}
CITIES = {
    "南京": (118.80, 32.06),
    "苏州": (120.62, 31.30),
    "无锡": (120.30, 31.57),
    "常州": (119.97, 31.81),
    "南通": (120.89, 31.98),
    "嘉兴": (120.76, 30.75),
    "湖州": (120.09, 30.89),
    "绍兴": (120.58, 30.00),
    "宁波": (121.55, 29.87),
    "合肥": (117.23, 31.82),
    "芜湖": (118.38, 31.33),
}
LAND = [
    (116.8, 32.8),
    (121.3, 32.8),
    (121.9, 32.3),
    (121.85, 31.75),
    (121.95, 31.0),
    (121.9, 30.85),
    (121.0, 30.65),
    (120.6, 30.35),
    (121.2, 30.3),
    (121.7, 30.0),
    (122.1, 29.9),
    (121.9, 29.2),
    (121.5, 28.8),
    (116.8, 28.8),
]
RIVER = [
    (116.8, 30.3),
    (117.05, 30.52),
    (117.8, 30.95),
    (118.38, 31.33),
    (118.78, 32.08),
    (119.45, 32.2),
    (119.9, 32.05),
    (120.27, 31.95),
    (120.55, 31.98),
    (120.9, 31.9),
    (121.3, 31.75),
    (121.85, 31.45),
]


def point(lon: float, lat: float) -> tuple[float, float]:
    return round((lon - WEST) * X_PER_DEGREE, 1), round((NORTH - lat) * Y_PER_DEGREE, 1)


def path(points: list[tuple[float, float]], closed: bool = False) -> str:
    coords = " L ".join("{} {}".format(*point(lon, lat)) for lon, lat in points)
    return f"M {coords}{' Z' if closed else ''}"


def around(region: str, index: int, count: int, radius: float = 26.0) -> tuple[float, float]:
    """The index-th of a region's carriers, on a circle around its city."""
    x, y = point(*REGION_CITIES[region])
    angle = 2 * math.pi * index / max(count, 1) - math.pi / 2
    return round(x + radius * math.cos(angle), 1), round(y + radius * math.sin(angle), 1)
