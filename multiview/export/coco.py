"""``coco`` export: COCO instance segmentation JSON with RLE masks (``OUT/coco.json``).

* one ``images`` entry per view (``id`` = 1-based pseudo-video index, ``file_name`` =
  the photo's file name, ``width``, ``height``, plus ``sha256``);
* one ``categories`` entry per object (``id`` = object id, ``name``, plus ``color``);
* one ``annotations`` entry per non-empty mask: ``segmentation`` is compressed RLE
  (``{"size": [H, W], "counts": str}``) made by :mod:`pycocotools.mask`, ``area`` and
  ``bbox`` (``[x, y, w, h]``) computed by pycocotools from the RLE, ``iscrowd`` 0; extra
  fields ``score``, ``present_score``, ``area_ref_px`` and ``area_cm2`` (None when unknown).

Read it back with ``pycocotools.coco.COCO(path)`` and ``annToMask``.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import atomic
from .base import ExportOptions, iter_view_masks

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

FILE_NAME = "coco.json"


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """Compressed COCO RLE of a (H, W) bool mask, JSON-ready (``counts`` as str)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def coco_dict(project: Project, obj_ids: Sequence[int], options: ExportOptions) -> dict[str, Any]:
    """The COCO dictionary, built view by view (only RLE strings are kept, never masks)."""
    from pycocotools import mask as mask_utils

    from .._version import __version__
    from ..plane import mappings, result_areas

    maps = mappings(project)
    images: list[dict[str, Any]] = []
    anns: list[dict[str, Any]] = []
    for i, vm in enumerate(iter_view_masks(project, obj_ids, visible=options.visible_for(False))):
        v = vm.view
        images.append({"id": i + 1, "file_name": v.id, "width": v.width, "height": v.height, "sha256": v.sha256})
        for oid, m in vm.masks.items():
            if not m.any():
                continue
            seg = encode_rle(m)
            rle = {"size": seg["size"], "counts": seg["counts"].encode("ascii")}
            r = vm.results[oid]
            areas = result_areas(r, v, maps.get(v.id), options.scale)
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": oid,
                    "segmentation": seg,
                    "area": float(mask_utils.area(rle)),
                    "bbox": [float(b) for b in mask_utils.toBbox(rle)],
                    "iscrowd": 0,
                    "score": r.score,
                    "present_score": r.present_score,
                    "area_ref_px": areas.ref_px,
                    "area_cm2": areas.cm2,
                }
            )
    cats = [
        {"id": o.id, "name": o.name, "supercategory": "object", "color": "#{:02x}{:02x}{:02x}".format(*o.color)}
        for o in project.objects
        if o.id in set(obj_ids)
    ]
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    return {
        "info": {
            "description": f"multiview masks of {project.root.name}",
            "version": __version__,
            "date_created": now.isoformat(),
            "year": now.year,
            "contributor": "multiview",
            "masks": "visible" if options.visible_for(False) else "amodal",
        },
        "licenses": [],
        "images": images,
        "annotations": anns,
        "categories": cats,
    }


def export_coco(project: Project, out: Path, obj_ids: Sequence[int], options: ExportOptions) -> int:
    """Write ``out/coco.json``; returns 1 (files written)."""
    atomic.write_text(out / FILE_NAME, json.dumps(coco_dict(project, obj_ids, options), ensure_ascii=False) + "\n")
    return 1
