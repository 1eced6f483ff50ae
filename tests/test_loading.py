from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from helpers import textured, write_rgb
from PIL import Image

from multiview.errors import PhotoError, PhotoSetError
from multiview.loading import probe_photo, probe_photos, read_photo, scan_photos
from multiview.raster import working_size


def test_scan_sorts_naturally_and_lists_sidecars(photo_dir: Path) -> None:
    scan = scan_photos(photo_dir)
    assert [p.name for p in scan.photos] == ["IMG_1.png", "IMG_2.jpg", "IMG_10.png"]
    assert [p.name for p in scan.skipped] == ["IMG_1.xmp"]


def test_scan_errors(tmp_path: Path) -> None:
    with pytest.raises(PhotoSetError, match="does not exist"):
        scan_photos(tmp_path / "nope")
    write_rgb(tmp_path / "only.png", textured(32, 32, 0))
    with pytest.raises(PhotoSetError, match="holds 1 photo"):
        scan_photos(tmp_path)


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P", "I;16"])
def test_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    rgb = textured(40, 30, 5)
    img = Image.fromarray(rgb)
    if mode == "I;16":
        img = Image.fromarray(rgb[..., 0].astype(np.uint16) * 257)
        f = tmp_path / "a.png"
    elif mode == "CMYK":
        img = img.convert("CMYK")
        f = tmp_path / "a.tif"
    else:
        img = img.convert(mode)
        f = tmp_path / "a.png"
    img.save(f)
    out = read_photo(f)
    assert out.shape == (30, 40, 3) and out.dtype == np.uint8
    if mode == "I;16":
        np.testing.assert_array_equal(out[..., 1], rgb[..., 0])
    if mode == "CMYK":  # the round trip through CMYK keeps colours closely
        assert np.abs(out.astype(int) - rgb).mean() < 3


def test_16bit_tiff_is_scaled_not_clipped(tmp_path: Path) -> None:
    rgb16 = textured(40, 30, 6).astype(np.uint16) * 257
    tifffile.imwrite(tmp_path / "a.tiff", rgb16)
    out = read_photo(tmp_path / "a.tiff")
    np.testing.assert_array_equal(out, (rgb16 // 257).astype(np.uint8))


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    rgb = textured(60, 40, 7)
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 CW to display
    img.save(tmp_path / "r.jpg", exif=exif, quality=95)
    info = probe_photo(tmp_path / "r.jpg")
    assert (info.width, info.height) == (40, 60)
    out = read_photo(tmp_path / "r.jpg")
    assert out.shape == (60, 40, 3)
    err_cw = np.abs(out.astype(int) - np.rot90(rgb, k=-1)).mean()
    err_ccw = np.abs(out.astype(int) - np.rot90(rgb, k=1)).mean()
    assert err_cw < 10 and err_cw < err_ccw / 3  # rotated clockwise, as EXIF 6 says


def test_raw_dng_is_decoded(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cfa = rng.integers(500, 3500, size=(64, 96), dtype=np.uint16)
    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),
        (33421, "H", 2, (2, 2), True),
        (33422, "B", 4, (0, 1, 1, 2), True),
        (50717, "I", 1, 4095, True),
    ]
    tifffile.imwrite(tmp_path / "shot.dng", cfa, photometric=32803, extratags=tags)
    out = read_photo(tmp_path / "shot.dng")
    assert out.shape == (64, 96, 3) and out.dtype == np.uint8 and out.std() > 0
    assert probe_photo(tmp_path / "shot.dng").width == 96


def test_large_photo_working_copy_is_bounded(tmp_path: Path) -> None:
    big = np.asarray(Image.fromarray(textured(300, 200, 8)).resize((3000, 2000)))
    write_rgb(tmp_path / "big.jpg", big)
    out = read_photo(tmp_path / "big.jpg", max_side=500)
    assert out.shape == (333, 500, 3)
    assert working_size(3000, 2000, 500) == (500, 333)
    assert working_size(300, 200, 500) == (300, 200)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_undecodable_photo_names_the_file(tmp_path: Path, damage: str) -> None:
    f = tmp_path / "bad.jpg"
    write_rgb(f, textured(200, 150, 9))
    data = f.read_bytes()
    f.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"not an image at all" * 50, "empty": b""}[damage])
    with pytest.raises(PhotoError, match=r"'bad\.jpg'.*(re-export|move it out)"):
        probe_photo(f)


def test_duplicates_and_stem_clashes(tmp_path: Path) -> None:
    a = write_rgb(tmp_path / "a.png", textured(40, 30, 1))
    b = tmp_path / "b.png"
    b.write_bytes(a.read_bytes())
    with pytest.raises(PhotoError, match=r"'b\.png' is a duplicate of 'a\.png'"):
        probe_photos([a, b])
    c = write_rgb(tmp_path / "a.jpg", textured(40, 30, 2))
    with pytest.raises(PhotoError, match="share the name 'a'"):
        probe_photos([a, c])


def test_60mp_jpeg_working_copy_has_bounded_memory(tmp_path: Path) -> None:
    """Decoding a 60 MP JPEG to a 2048 px working copy must not hold the full image (180 MB)."""
    import subprocess
    import sys

    import cv2

    small = textured(900, 670, 11)
    big = cv2.resize(small, (9000, 6700), interpolation=cv2.INTER_LINEAR)
    write_rgb(tmp_path / "huge.jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 80])
    del big
    code = (
        "import resource, sys; from multiview.loading import read_photo; "
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "a = read_photo(sys.argv[1], max_side=2048); "
        "print(a.shape[1], a.shape[0], (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "huge.jpg")], capture_output=True, text=True, check=True
    ).stdout.split()
    w, h, grew_mb = map(int, out)
    assert (w, h) == (2048, 1525)
    assert grew_mb < 100, f"peak memory grew by {grew_mb} MB"
