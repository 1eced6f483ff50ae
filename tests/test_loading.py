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


# ----------------------------------------------------------------------------- orientation (EXIF/TIFF tag 274)

from multiview import orientation as orient  # noqa: E402


def _write_oriented(path: Path, stored: np.ndarray, o: int) -> Path:
    """Write ``stored`` (h, w, 3) uint8 pixels as they are, tagged with orientation ``o``."""
    kind = path.suffix
    if kind in (".jpg", ".png"):
        img = Image.fromarray(stored)
        exif = img.getexif()
        exif[0x0112] = o
        img.save(path, exif=exif, **({"quality": 98, "subsampling": 0} if kind == ".jpg" else {}))
    elif path.name.endswith(".8.tif"):
        tifffile.imwrite(path, stored, photometric="rgb", extratags=[(274, "H", 1, o, True)])
    elif path.name.endswith(".16.tif"):
        tifffile.imwrite(path, stored.astype(np.uint16) * 257, photometric="rgb", extratags=[(274, "H", 1, o, True)])
    elif path.name.endswith(".g16.tif"):
        tifffile.imwrite(path, stored[..., 0].astype(np.uint16) * 257, extratags=[(274, "H", 1, o, True)])
    return path


@pytest.mark.parametrize("o", orient.ORIENTATIONS)
@pytest.mark.parametrize("name", ["p.jpg", "p.png", "p.8.tif", "p.16.tif", "p.g16.tif"])
def test_every_orientation_applied_exactly_once(tmp_path: Path, name: str, o: int) -> None:
    stored = textured(48, 30, 20)  # 48 wide, 30 high: any wrong turn shows
    if name.endswith(".g16.tif"):
        stored = np.repeat(stored[..., :1], 3, axis=2)
    f = _write_oriented(tmp_path / name, stored, o)
    want = orient.to_display(stored, o)
    info = probe_photo(f)
    assert (info.width, info.height) == (want.shape[1], want.shape[0]) and info.orientation == o
    out = read_photo(f)
    assert out.shape == want.shape
    errors = {
        k: np.abs(out.astype(int) - orient.to_display(stored, k)).mean()
        for k in orient.ORIENTATIONS
        if orient.to_display(stored, k).shape == out.shape
    }
    assert errors[o] < 3 and all(
        e > 10 for k, e in errors.items() if k != o and not np.array_equal(orient.to_display(stored, k), want)
    ), errors
    small = read_photo(f, max_side=24)  # the working copy has the same orientation
    assert (small.shape[1], small.shape[0]) == working_size(info.width, info.height, 24)


@pytest.mark.parametrize("o", orient.ORIENTATIONS)
def test_raw_orientation_applied_exactly_once(tmp_path: Path, o: int) -> None:
    cfa = (500 + 12 * textured(96, 64, 21)[..., 1].astype(np.uint16)).astype(np.uint16)  # smooth blobs
    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),
        (33421, "H", 2, (2, 2), True),
        (33422, "B", 4, (0, 1, 1, 2), True),
        (50717, "I", 1, 4095, True),
        (274, "H", 1, o, True),
    ]
    f = tmp_path / "shot.dng"
    tifffile.imwrite(f, cfa, photometric=32803, extratags=tags)
    out = read_photo(f).astype(float).mean(axis=2)
    want = orient.to_display(cfa.astype(float), o)
    assert out.shape == want.shape and probe_photo(f).orientation == o

    def corr(a, b):
        a, b = a - a.mean(), b - b.mean()
        return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))

    scores = {
        k: corr(out, orient.to_display(cfa.astype(float), k))
        for k in orient.ORIENTATIONS
        if orient.to_display(cfa, k).shape == out.shape
    }
    assert scores[o] > 0.98 and max(v for k, v in scores.items() if k != o) < 0.9, scores


def test_to_stored_inverts_to_display() -> None:
    a = np.arange(6 * 4).reshape(6, 4)
    for o in orient.ORIENTATIONS:
        assert np.array_equal(orient.to_stored(orient.to_display(a, o), o), a)
        assert orient.display_size((4, 6), o) == orient.to_display(a, o).shape[::-1]


def test_multi_page_tiff_says_it_uses_the_first_page(tmp_path: Path, caplog) -> None:
    f = tmp_path / "scan.tif"
    with tifffile.TiffWriter(f) as tw:
        tw.write(textured(40, 30, 1), photometric="rgb")
        tw.write(textured(40, 30, 2), photometric="rgb")
    info = probe_photo(f)
    assert info.pages == 2 and "has 2 pages; multiview uses the first" in caplog.text
    np.testing.assert_array_equal(read_photo(f), textured(40, 30, 1))


@pytest.mark.parametrize("compression", ["tiff_lzw", "tiff_adobe_deflate", "jpeg", "packbits"])
def test_compressed_tiffs(tmp_path: Path, compression: str) -> None:
    rgb = textured(40, 30, 3)
    Image.fromarray(rgb).save(tmp_path / "c.tif", compression=compression)
    out = read_photo(tmp_path / "c.tif")
    pillow = np.asarray(Image.open(tmp_path / "c.tif").convert("RGB"))  # Pillow's own reading of the file
    assert np.abs(out.astype(int) - pillow).mean() < 1.0
    assert np.abs(out.astype(int) - rgb).mean() < (10 if compression == "jpeg" else 0.5)


# ----------------------------------------------------------------------------- names (links, Unicode)


def test_links_keep_the_names_in_the_folder(tmp_path: Path) -> None:
    store = tmp_path / "card"
    write_rgb(store / "DSC_441.png", textured(40, 30, 1))
    write_rgb(store / "DSC_442.png", textured(40, 30, 2))
    folder = tmp_path / "wall"
    folder.mkdir()
    (folder / "wall_01.png").symlink_to(store / "DSC_441.png")
    (folder / "wall_02.png").symlink_to(store / "DSC_442.png")
    scan = scan_photos(folder)
    assert [p.name for p in scan.photos] == ["wall_01.png", "wall_02.png"]
    assert probe_photo(scan.photos[0]).path.name == "wall_01.png"


# ----------------------------------------------------------------------------- one pixel limit


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width x height`` (no real pixel data: decoding it would fail)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("mp", [450, 900])
def test_over_the_pixel_limit_one_line_no_warning(tmp_path: Path, mp: int, recwarn) -> None:
    from multiview.loading import MAX_PIXELS

    assert MAX_PIXELS == 400_000_000
    f = _png_header_only(tmp_path / "huge.png", 30000, mp * 1_000_000 // 30000)
    with pytest.raises(PhotoError, match=r"'huge\.png' has 30000x\d+ pixels \(\d+ MP\), more than .* 400 MP"):
        probe_photo(f)
    assert len(recwarn) == 0  # no Pillow "decompression bomb" text


def test_pixel_limit_holds_for_every_format(tmp_path: Path, monkeypatch) -> None:
    from multiview import decoders

    monkeypatch.setattr(decoders, "MAX_PIXELS", 1000)
    write_rgb(tmp_path / "a.jpg", textured(40, 30, 1))
    tifffile.imwrite(tmp_path / "a.tif", textured(40, 30, 1))
    for f in ("a.jpg", "a.tif"):
        with pytest.raises(PhotoError, match="more than multiview's limit"):
            read_photo(tmp_path / f)


# ----------------------------------------------------------------------------- mask files


def test_mask_files_alpha_16bit_palette_and_orientation(tmp_path: Path) -> None:
    from multiview.loading import read_mask

    obj = np.zeros((30, 40), bool)
    obj[5:15, 10:30] = True
    # selection in the alpha channel, colour white everywhere (an editor's transparency export)
    rgba = np.full((30, 40, 4), 255, np.uint8)
    rgba[..., 3] = np.where(obj, 255, 0)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "alpha.png"), obj)
    # fully opaque alpha: the colour decides (non-zero = object)
    rgba[..., 3] = 255
    rgba[..., :3] = np.where(obj[..., None], 255, 0)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "opaque.png"), obj)
    # 16-bit label mask, object = 1: read unchanged
    Image.fromarray(obj.astype(np.uint16)).save(tmp_path / "label16.png")
    tifffile.imwrite(tmp_path / "label16.tif", obj.astype(np.uint16))
    np.testing.assert_array_equal(read_mask(tmp_path / "label16.png"), obj)
    np.testing.assert_array_equal(read_mask(tmp_path / "label16.tif"), obj)
    # palette label image whose object colour is black: the index counts
    pal = Image.fromarray(obj.astype(np.uint8), "P")
    pal.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    pal.save(tmp_path / "palette.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "palette.png"), obj)
    # a mask file with an orientation tag is read as displayed
    img = Image.fromarray(obj.astype(np.uint8) * 255)
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(tmp_path / "turned.png", exif=exif)
    np.testing.assert_array_equal(read_mask(tmp_path / "turned.png"), orient.to_display(obj, 6))
