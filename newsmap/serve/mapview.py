"""The Folium map of one article's places, made to work offline and to stay safe.

- `OfflineMap` swaps folium's CDN assets (jQuery, Bootstrap, Font Awesome, Leaflet from
  jsdelivr) for Leaflet served by the app itself, and drops folium's `user-scalable=no`.
- Markers are folium markers, one feature group per category. `static/newsmap.js` gives them
  their CSS div icons (family and precision from the page's data, a hit box sized for the
  pointer), then shows the groups; it spreads or gathers markers that would cover each other. No text from the dataset
  enters folium's JavaScript: popups, tooltips and labels are built in
  `static/newsmap.js` with `textContent`, from a JSON block the page template escapes.
- `Registry`, added last, publishes `{place id -> marker variable}` for that script, because
  folium's variable names are random on every render.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import folium
from branca.element import Element, MacroElement
from folium.template import Template

from newsmap.geo import haversine_km
from newsmap.schema import category_family
from newsmap.settings import OSM_ATTRIBUTION

LEAFLET_JS = "/vendor/leaflet/leaflet.js"
LEAFLET_CSS = "/vendor/leaflet/leaflet.css"
STORY_FAMILIES = ("military", "proposed")  # what a report on facilities is about: its sites and proposed bases
STORY_RADIUS_KM = 300  # points within this distance of the story's anchors belong to the start view too
ZOOM_BY_PRECISION = {"facility": 11, "settlement": 9, "region": 7, "country": 4, "manual": 11}


class OfflineMap(folium.Map):
    """folium.Map with its assets served by the app and no zoom lock for readers."""

    default_js: ClassVar[list[tuple[str, str]]] = [("leaflet", LEAFLET_JS)]
    default_css: ClassVar[list[tuple[str, str]]] = [("leaflet_css", LEAFLET_CSS)]
    _template = Template(
        """
        {% macro header(this, kwargs) %}{% endmacro %}
        {% macro html(this, kwargs) %}
            <div class="folium-map" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map(
                {{ this.get_name()|tojson }},
                {center: {{ this.location|tojson }}, crs: L.CRS.{{ this.crs }}, ...{{ this.options|tojavascript }}}
            );
            {%- if this.control_scale %}
            L.control.scale().addTo({{ this.get_name() }});
            {%- endif %}
        {% endmacro %}
        """
    )


class Registry(MacroElement):
    """`window.newsmapRegistry`: the map, its tile layer, each place's marker and each category's layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            window.newsmapRegistry = {
                map: {{ this.map.get_name() }},
                tiles: {{ this.tiles.get_name() if this.tiles else "null" }},
                markers: { {%- for place_id, marker in this.markers %}
                    {{ place_id|tojson }}: {{ marker.get_name() }},{% endfor %}
                },
                groups: { {%- for index, group in this.groups %}
                    {{ index|tojson }}: {{ group.get_name() }},{% endfor %}
                }
            };
        {% endmacro %}
        """
    )

    def __init__(
        self,
        map_: folium.Map,
        tiles: folium.TileLayer | None,
        markers: list[tuple[str, folium.Marker]],
        groups: list[tuple[int, folium.FeatureGroup]],
    ) -> None:
        super().__init__()
        self._name = "Registry"
        self.map, self.tiles, self.markers, self.groups = map_, tiles, markers, groups


@dataclass(frozen=True)
class MapParts:
    html: str  # the map's <div>
    script: str  # folium's JavaScript plus the registry, for one inline <script>
    css: tuple[str, ...]
    js: tuple[str, ...]


def focus_bounds(places: list[dict[str, Any]]) -> list[list[float]]:
    """Bounds of the places that are points on the ground; a country's centre is only a symbol."""
    points = [p for p in places if p["precision"] != "country"] or places
    lats, lons = [p["lat"] for p in points], [p["lon"] for p in points]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def story_anchors(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The points the article is about: its facilities and proposed bases, or sites placed at the
    facility itself; failing those, the most-mentioned points (a flood's town, a summit's city)."""
    anchors = [p for p in points if category_family(p["category"]) in STORY_FAMILIES or p["precision"] == "facility"]
    if anchors:
        return anchors
    most = max(int(p.get("mentions") or 0) for p in points)
    return [p for p in points if int(p.get("mentions") or 0) == most]


def story_places(places: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The places the start view fits: the story's anchors and every point on the ground (not a
    country's centre) within STORY_RADIUS_KM of one. Far context (Moscow, Sochi for a report on
    Kyrgyzstan) stays one click away: the map's "Show all places" control and the places list."""
    points = [p for p in places if p["precision"] != "country"] or places
    anchors = story_anchors(points)
    near = [(a["id"], a["lat"], a["lon"]) for a in anchors]
    return [
        p
        for p in points
        if any(
            p["id"] == key or haversine_km(p["lat"], p["lon"], lat, lon) <= STORY_RADIUS_KM for key, lat, lon in near
        )
    ]


def _number_elements(element: Element, counter: Iterator[int]) -> None:
    """Replace branca's random element ids by sequence numbers, in tree order.

    The same data then renders to the same bytes in every worker and after every restart, so
    the page's ETag holds. (The registry, not these names, is still how the page's script finds
    a marker.)
    """
    element._id = f"{next(counter):04d}"
    children = list(element._children.values())
    for child in children:
        _number_elements(child, counter)
    element._children = OrderedDict((child.get_name(), child) for child in children)


def build_map(
    places: list[dict[str, Any]], category_index: dict[str, int], tiles: str, attribution: str = OSM_ATTRIBUTION
) -> MapParts:
    """The folium map for `places` (dataset rows), rendered to its div and its script."""
    bounds = focus_bounds(story_places(places))
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    fmap = OfflineMap(location=center, zoom_start=5, tiles=None, control_scale=True, world_copy_jump=True)
    tile_layer = None
    if tiles != "offline":
        tile_layer = folium.TileLayer(tiles=tiles, attr=attribution, name="basemap", max_zoom=18)
        tile_layer.add_to(fmap)
    groups: dict[int, folium.FeatureGroup] = {}
    for index in sorted(set(category_index.values())):
        groups[index] = folium.FeatureGroup(name=f"category-{index}", control=False, show=False).add_to(fmap)
    markers = []
    for place in places:  # newsmap.js gives each marker its icon, then shows the groups
        marker = folium.Marker([place["lat"], place["lon"]])  # keyboard: Leaflet's default; riseOnHover: newsmap.js
        marker.add_to(groups[category_index[place["category"]]])
        markers.append((place["id"], marker))
    fmap.fit_bounds(bounds, padding=(30, 30), max_zoom=9)
    Registry(fmap, tile_layer, markers, sorted(groups.items())).add_to(fmap)
    root = fmap.get_root()
    _number_elements(root, itertools.count(1))
    root.render()
    return MapParts(
        html=root.html.render(),
        script=root.script.render(),
        css=tuple(url for _, url in OfflineMap.default_css),
        js=tuple(url for _, url in OfflineMap.default_js),
    )
