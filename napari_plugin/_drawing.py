"""The layers of one session in a viewer: structure, maps and points."""

from __future__ import annotations

import numpy as np
from napari.layers import Layer

from napari_plugin._layers import (
    CHOOSER_SYMBOLS,
    MAP_STYLES,
    OPERATOR_LAYER,
    Placement,
    candidates_layer,
    finite_limits,
    map_layer,
    measured_layer,
    point_features,
)
from napari_plugin._registry import SESSION_KEY
from napari_plugin._session import Snapshot
from napari_plugin._structure import same_file


def ours(layer) -> bool:
    """Whether a layer was drawn for a session (maps, points, structure)."""
    meta = layer.metadata
    return SESSION_KEY in meta or "map" in meta or "points" in meta


def find_structure(layers, data, chosen_layer: str | None = None):
    """The layer showing a session's structure image, or ``None``: the layer
    read from the same file and dataset, or the image layer chosen by name."""
    source = data.source
    file = source.image_file or source.file
    for layer in layers:
        meta = layer.metadata
        if ours(layer) or layer.ndim != 2 or "dataset" not in meta:
            continue
        if (
            source.image_dataset
            and meta.get("dataset") == source.image_dataset
            and same_file(meta.get("source_file"), file)
        ):
            return layer
    if chosen_layer is not None and chosen_layer in layers:
        return layers[chosen_layer]
    return None


class SessionLayers:
    """Draws one session into a viewer and keeps its layers.

    Parameters
    ----------
    viewer : napari.Viewer
        Where to draw.
    key : str
        The session's id, stored in every layer's metadata (the writer finds
        the session through it).
    data : ExplorationData
        The session's data: structure image, grid and axes.
    chosen_layer : str, optional
        Name of the image layer chosen as the structure image.

    Attributes
    ----------
    structure : napari.layers.Image
        The structure image layer (the viewer's, or one added here).
    placement : Placement
        World placement of the image and the grid, in the structure layer's
        length unit.
    layers : dict of str to Layer
        The maps by name, ``'measured'``, ``'candidates'`` and
        ``'operator'``.
    """

    def __init__(self, viewer, key: str, data, chosen_layer: str | None = None):
        self.viewer = viewer
        self.key = key
        self.layers: dict[str, Layer] = {}
        structure = find_structure(viewer.layers, data, chosen_layer)
        world = None if structure is None else structure.metadata.get("world_units")
        self.placement = Placement.of(data, world)
        self.structure = structure if structure is not None else self._add(data)

    def _add(self, data):
        p = self.placement
        kwargs = {
            "name": "structure",
            "scale": p.image_scale,
            "translate": p.image_translate,
            "colormap": "gray",
            "metadata": {
                SESSION_KEY: self.key,
                "world_units": p.world_units,
                "quantity": data.image_quantity,
                "units": data.image_units,
                "source": data.source.image_source,
            },
        }
        if p.napari_units:
            kwargs["units"] = p.napari_units
        layer = self.viewer.add_image(data.image, **kwargs)
        self.viewer.layers.move(self.viewer.layers.index(layer), 0)
        return layer

    def remove(self) -> None:
        """Take the session's maps and points out of the viewer."""
        for layer in list(self.layers.values()):
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self.layers.clear()

    def _tag(self, kwargs: dict) -> dict:
        kwargs["metadata"] = {
            **kwargs.get("metadata", {}),
            SESSION_KEY: self.key,
            "world_units": self.placement.world_units,
        }
        return kwargs

    def _layer(self, key: str, layer_data) -> tuple[Layer, bool]:
        """The layer ``key`` and whether it was just created from
        ``layer_data`` (otherwise the caller updates it)."""
        data, kwargs, kind = layer_data
        layer = self.layers.get(key)
        if layer is not None and layer in self.viewer.layers:
            return layer, False
        layer = Layer.create(data, self._tag(kwargs), kind)
        self.viewer.add_layer(layer)
        self.layers[key] = layer
        if kind == "image":  # maps go under every points layer
            points = [
                i
                for i, other in enumerate(self.viewer.layers)
                if other.__class__.__name__ == "Points"
            ]
            if points:
                self.viewer.layers.move(self.viewer.layers.index(layer), min(points))
        return layer, True

    def draw(self, snapshot: Snapshot) -> None:
        """Maps, measured points and next candidates of a snapshot."""
        p = self.placement
        for key, values in snapshot.maps.items():
            if key not in MAP_STYLES:
                continue
            layer, created = self._layer(key, map_layer(values, p, key=key))
            if not created:
                layer.data = values
                layer.contrast_limits = finite_limits(values)
        self._draw_measured(snapshot)
        coords = p.grid_to_world(snapshot.candidates)
        layer, created = self._layer(
            "candidates",
            candidates_layer(coords, size=p.point_size, units=p.napari_units),
        )
        if not created:
            layer.data = coords

    def _draw_measured(self, snapshot: Snapshot) -> None:
        p = self.placement
        coords = p.grid_to_world(snapshot.measured_index)
        choosers = list(snapshot.choosers)
        layer_data = measured_layer(
            coords,
            choosers=choosers,
            errors=snapshot.measured_error,
            size=p.point_size,
            units=p.napari_units,
        )
        layer, created = self._layer("measured", layer_data)
        if created:
            return
        n = len(coords)
        layer.data = coords
        layer.features = point_features(n, choosers, snapshot.measured_error)
        if n:
            layer.symbol = [CHOOSER_SYMBOLS.get(c, "disc") for c in choosers]
            layer.face_contrast_limits = (0.0, float(max(n - 1, 1)))
            layer.face_color = "order"
        layer.refresh()

    def operator_layer(self):
        """The layer of points the operator wants measured (made on first
        use)."""
        layer = self.layers.get("operator")
        if layer is not None and layer in self.viewer.layers:
            return layer
        p = self.placement
        kwargs = {
            "name": OPERATOR_LAYER,
            "ndim": 2,
            "size": p.point_size,
            "face_color": "magenta",
            "border_color": "white",
            "symbol": "cross",
            "metadata": {"points": "operator"},
        }
        if p.napari_units:
            kwargs["units"] = p.napari_units
        layer = self.viewer.add_points(np.zeros((0, 2)), **self._tag(kwargs))
        self.layers["operator"] = layer
        return layer
