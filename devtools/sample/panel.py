"""The fresco panel (the reference plane) and its painted objects' masks.

Convention:
    Panel pixel ``(x, y)`` is ``panel[y, x]``; pixel centres at integer
    coordinates (OpenCV).  :data:`PANEL_SIZE` is ``(width, height)``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from devtools.sample.painter import _lowfreq, _Painter, _poly, _pt

PANEL_SIZE: tuple[int, int] = (1200, 900)  # (width, height)
PANEL_METRES_PER_PIXEL = 0.002  # the panel is 2.4 m x 1.8 m on the wall

_PLASTER = (212, 184, 138)
_OCHRE_RED = (160, 72, 48)
_CREAM = (232, 214, 170)
_DARK = (70, 48, 34)
_FLESH = (226, 184, 148)
_GOLD = (206, 160, 72)
_ROBE = (164, 48, 40)
_MANTLE = (62, 98, 112)
_NICHE = (96, 112, 128)
_EARTH = (150, 128, 84)
_GREEN = (82, 104, 62)
_BARE = (166, 158, 136)


def _render_panel(seed: int) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Paint the fresco panel.

    Returns:
        ``(H, W, 3)`` ``uint8`` RGB panel and ``{obj_id: (H, W) bool mask}``.
    """
    W, H = PANEL_SIZE
    rng = np.random.RandomState([seed, 1])
    p = _Painter(rng, PANEL_SIZE)
    B = 56  # border band width
    field = np.zeros((H, W), bool)
    field[B : H - B, B : W - B] = True

    # Plaster / ochre ground with low-frequency colour variation.
    p.canvas[:] = np.asarray(_PLASTER, np.float32)
    p.canvas += 4 * _lowfreq(rng, PANEL_SIZE, (5, 4), 3)
    p.canvas += 12 * _lowfreq(rng, PANEL_SIZE, (9, 7))[..., None] * np.array([1.0, 0.92, 0.8], np.float32)
    p.fill(field, _PLASTER, var=10, strokes=4, jitter=9, opacity=0.55, soft=0)

    # Border band with repeated ornaments.
    band = ~field
    p.fill(band, _OCHRE_RED, var=6, strokes=5, jitter=8, soft=0.6)

    def border_lines(lay):
        for off, th in ((8, 3), (B - 9, 3)):
            cv2.rectangle(lay, _pt(off, off), _pt(W - 1 - off, H - 1 - off), 255, th, cv2.LINE_AA, 4)

    p.blend(0.9 * p.line_layer(border_lines), _CREAM)
    cream = p.layer()
    green = p.layer()
    centres = []
    period = 96.0
    c = B / 2
    for x in np.arange(c + period / 2, W - c - period / 4, period / 2):
        centres += [(x, c), (x, H - 1 - c)]
    for y in np.arange(c + period / 2, H - c - period / 4, period / 2):
        centres += [(c, y), (W - 1 - c, y)]
    for cx, cy in centres:
        along = cx if cy in (c, H - 1 - c) else cy
        if round((along - c) / (period / 2)) % 2 == 1:  # rosette
            for a in range(6):
                t = a * math.pi / 3
                cv2.ellipse(
                    cream,
                    _pt(cx + 9 * math.cos(t), cy + 9 * math.sin(t)),
                    (16 * 7, 16 * 4),
                    math.degrees(t),
                    0,
                    360,
                    255,
                    -1,
                    cv2.LINE_AA,
                    4,
                )
            cv2.circle(green, _pt(cx, cy), 16 * 5, 255, -1, cv2.LINE_AA, 4)
        else:  # lozenge
            d = 13
            cv2.fillPoly(green, [_poly([(cx, cy - d), (cx + d, cy), (cx, cy + d), (cx - d, cy)])], 255, cv2.LINE_AA, 4)
            cv2.circle(cream, _pt(cx, cy), 16 * 3, 255, -1, cv2.LINE_AA, 4)
    p.blend(0.85 * cream.astype(np.float32) / 255, _CREAM)
    p.blend(0.85 * green.astype(np.float32) / 255, _GREEN)
    # corner squares
    for cx, cy in ((c, c), (W - 1 - c, c), (c, H - 1 - c), (W - 1 - c, H - 1 - c)):
        sq = p.layer()
        cv2.rectangle(sq, _pt(cx - 18, cy - 18), _pt(cx + 18, cy + 18), 255, -1, cv2.LINE_AA, 4)
        p.fill(sq, _GREEN, var=4, strokes=0)
        dot = p.layer()
        cv2.circle(dot, _pt(cx, cy), 16 * 8, 255, -1, cv2.LINE_AA, 4)
        p.fill(dot, _GOLD, var=4, strokes=0)

    # Ground band (earth) with a wavy horizon.
    xs = np.arange(W)
    horizon = 720 + 10 * np.sin(xs / 90.0 + rng.uniform(0, 6)) + 6 * np.sin(xs / 31.0 + rng.uniform(0, 6))
    ground = (np.arange(H)[:, None] > horizon[None, :]) & field
    p.fill(p.painterly(ground), _EARTH, var=10, strokes=8, jitter=12, angle=0.0)
    plants = p.layer()
    for _ in range(70):  # little plants on the ground
        x = rng.uniform(B + 10, W - B - 10)
        y = rng.uniform(horizon[int(x)] + 12, H - B - 10)
        for _k in range(rng.randint(3, 6)):
            a = -math.pi / 2 + rng.normal(0, 0.5)
            ln = rng.uniform(8, 20)
            cv2.line(
                plants,
                _pt(x, y),
                _pt(x + ln * math.cos(a), y + ln * math.sin(a)),
                int(rng.randint(150, 256)),
                2,
                cv2.LINE_AA,
                4,
            )
    p.blend(0.85 * plants.astype(np.float32) / 255, _GREEN)

    # Niche (blue-grey) with an arched top, framed by red-brown lines.
    niche = p.layer()
    ncx, ntop, nr, nbot = 430.0, 270.0, 135.0, 800.0
    cv2.ellipse(niche, _pt(ncx, ntop), (int(nr * 16), int(nr * 16)), 0, 180, 360, 255, -1, cv2.LINE_AA, 4)
    cv2.rectangle(niche, _pt(ncx - nr, ntop), _pt(ncx + nr, nbot), 255, -1, cv2.LINE_AA, 4)
    p.fill(p.painterly(niche, amp=0.15), _NICHE, var=12, strokes=7, jitter=10)

    def niche_frame(lay):
        cv2.ellipse(lay, _pt(ncx, ntop), (int((nr + 8) * 16),) * 2, 0, 180, 360, 255, 7, cv2.LINE_AA, 4)
        for sx in (-1, 1):
            cv2.line(lay, _pt(ncx + sx * (nr + 8), ntop), _pt(ncx + sx * (nr + 8), nbot), 255, 7, cv2.LINE_AA, 4)

    p.blend(0.9 * p.line_layer(niche_frame), _OCHRE_RED)

    # A stylised tree on the left.
    trunk = p.layer()
    cv2.fillPoly(trunk, [_poly([(160, 760), (186, 760), (178, 430), (168, 430)])], 255, cv2.LINE_AA, 4)
    for a, ln in ((-2.2, 70), (-0.9, 80), (-1.9, 60)):
        cv2.line(trunk, _pt(173, 500), _pt(173 + ln * math.cos(a), 500 + ln * math.sin(a)), 255, 6, cv2.LINE_AA, 4)
    p.fill(p.painterly(trunk, sigma=1.5, amp=0.2), (110, 76, 48), var=8, strokes=10, jitter=12, angle=math.pi / 2)
    crown = p.layer()
    for _ in range(9):
        cv2.circle(
            crown,
            _pt(173 + rng.normal(0, 38), 370 + rng.normal(0, 40)),
            int(16 * rng.uniform(32, 52)),
            255,
            -1,
            cv2.LINE_AA,
            4,
        )
    p.fill(p.painterly(crown, amp=0.45), _GREEN, var=12, strokes=14, jitter=16)
    leaves = p.layer()
    ys, xs_ = np.nonzero(crown[::6, ::6] > 0)
    pick = rng.choice(len(ys), size=min(140, len(ys)), replace=False)
    for i in pick:
        cv2.ellipse(
            leaves, _pt(xs_[i] * 6, ys[i] * 6), (16 * 6, 16 * 3), rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA, 4
        )
    p.blend(0.7 * leaves.astype(np.float32) / 255, (140, 160, 92))
    fruits = p.layer()
    for i in rng.choice(len(ys), size=min(14, len(ys)), replace=False):
        cv2.circle(fruits, _pt(xs_[i] * 6, ys[i] * 6), 16 * 5, 255, -1, cv2.LINE_AA, 4)
    p.blend(0.9 * (fruits.astype(np.float32) / 255) * (crown > 0), (196, 112, 52))

    # ---- object 1: the standing figure (robe, mantle, head, halo, hands, book, feet)
    fig = np.zeros((H, W), bool)
    hx, hy = 430.0, 250.0
    halo = p.layer()
    cv2.circle(halo, _pt(hx, hy), 16 * 76, 255, -1, cv2.LINE_AA, 4)
    halo_m = p.painterly(halo, amp=0.12)
    p.fill(halo_m, _GOLD, var=10, strokes=8, jitter=10)
    fig |= halo_m

    def halo_details(lay):
        cv2.circle(lay, _pt(hx, hy), 16 * 72, 255, 3, cv2.LINE_AA, 4)
        cv2.circle(lay, _pt(hx, hy), 16 * 56, 255, 2, cv2.LINE_AA, 4)
        for a in range(0, 360, 12):
            t = math.radians(a)
            cv2.circle(lay, _pt(hx + 64 * math.cos(t), hy + 64 * math.sin(t)), 16 * 2, 255, -1, cv2.LINE_AA, 4)

    p.blend(0.75 * p.line_layer(halo_details), (140, 92, 38))
    robe = p.layer()
    cv2.fillPoly(
        robe,
        [_poly([(376, 318), (484, 318), (516, 420), (524, 560), (552, 776), (308, 776), (334, 560), (344, 420)])],
        255,
        cv2.LINE_AA,
        4,
    )
    robe_m = p.painterly(robe)
    p.fill(robe_m, _ROBE, var=12, strokes=10, jitter=14, angle=math.pi / 2)
    fig |= robe_m

    def folds(lay):
        for x0, x1 in ((372, 350), (400, 388), (428, 430), (456, 470), (486, 512)):
            pts = [(x0 + (x1 - x0) * t + 6 * math.sin(7 * t + x0), 470 + 300 * t) for t in np.linspace(0, 1, 14)]
            cv2.polylines(lay, [_poly(pts)], False, 255, 3, cv2.LINE_AA, 4)
        cv2.line(lay, _pt(316, 752), _pt(546, 752), 255, 4, cv2.LINE_AA, 4)

    p.blend(0.6 * p.line_layer(folds) * robe_m, (88, 24, 22))

    def hem(lay):
        for x in np.arange(322, 540, 14):
            cv2.circle(lay, _pt(x, 764), 16 * 3, 255, -1, cv2.LINE_AA, 4)

    p.blend(0.85 * p.line_layer(hem) * robe_m, _GOLD)
    mantle = p.layer()
    cv2.fillPoly(
        mantle,
        [_poly([(380, 318), (446, 326), (508, 430), (528, 600), (540, 740), (470, 736), (440, 600), (392, 430)])],
        255,
        cv2.LINE_AA,
        4,
    )
    mantle_m = p.painterly(mantle) & robe_m
    p.fill(mantle_m, _MANTLE, var=10, strokes=10, jitter=12, angle=1.2)

    def mantle_edge(lay):
        cv2.polylines(lay, [_poly([(446, 326), (508, 430), (528, 600), (540, 740)])], False, 255, 4, cv2.LINE_AA, 4)
        for x0 in (470, 492):
            cv2.polylines(lay, [_poly([(x0, 430), (x0 + 10, 560), (x0 + 12, 700)])], False, 255, 2, cv2.LINE_AA, 4)

    p.blend(0.7 * p.line_layer(mantle_edge) * mantle_m, (30, 52, 64))
    neck = p.layer()
    cv2.rectangle(neck, _pt(417, 290), _pt(443, 324), 255, -1, cv2.LINE_AA, 4)
    p.fill(p.painterly(neck, sigma=1.5, amp=0.15), _FLESH, var=6, strokes=0)
    fig |= neck > 0
    head = p.layer()
    cv2.ellipse(head, _pt(hx, hy + 6), (16 * 38, 16 * 48), 0, 0, 360, 255, -1, cv2.LINE_AA, 4)
    head_m = p.painterly(head, sigma=1.5, amp=0.12)
    p.fill(head_m, _FLESH, var=7, strokes=6, jitter=6)
    fig |= head_m
    hair = p.layer()
    cv2.ellipse(hair, _pt(hx, hy - 8), (16 * 41, 16 * 38), 0, 180, 360, 255, -1, cv2.LINE_AA, 4)
    cv2.ellipse(hair, _pt(hx, hy + 40), (16 * 26, 16 * 20), 0, 0, 180, 255, -1, cv2.LINE_AA, 4)  # beard
    p.fill(p.painterly(hair, sigma=1.5, amp=0.25) & (halo_m | head_m), (96, 62, 36), var=8, strokes=12, jitter=12)

    def face(lay):
        for sx in (-1, 1):
            cv2.ellipse(lay, _pt(hx + sx * 14, hy + 2), (16 * 6, 16 * 3), 0, 0, 360, 255, -1, cv2.LINE_AA, 4)
            cv2.ellipse(lay, _pt(hx + sx * 14, hy - 6), (16 * 9, 16 * 4), 0, 200, 340, 255, 2, cv2.LINE_AA, 4)
        cv2.polylines(
            lay, [_poly([(hx - 1, hy + 2), (hx - 4, hy + 20), (hx + 4, hy + 22)])], False, 255, 2, cv2.LINE_AA, 4
        )
        cv2.line(lay, _pt(hx - 8, hy + 32), _pt(hx + 8, hy + 32), 255, 2, cv2.LINE_AA, 4)

    p.blend(0.85 * p.line_layer(face), (60, 36, 26))
    cheeks = p.layer()
    for sx in (-1, 1):
        cv2.circle(cheeks, _pt(hx + sx * 20, hy + 18), 16 * 7, 255, -1, cv2.LINE_AA, 4)
    p.blend(0.25 * cv2.GaussianBlur(cheeks.astype(np.float32) / 255, (0, 0), 3), (210, 110, 96))
    hands = p.layer()
    cv2.ellipse(hands, _pt(360, 404), (16 * 15, 16 * 22), -15, 0, 360, 255, -1, cv2.LINE_AA, 4)  # blessing hand
    for k in range(3):
        cv2.line(hands, _pt(352 + 6 * k, 388), _pt(348 + 6 * k, 366), 255, 5, cv2.LINE_AA, 4)
    cv2.ellipse(hands, _pt(470, 498), (16 * 18, 16 * 13), 10, 0, 360, 255, -1, cv2.LINE_AA, 4)
    hands_m = p.painterly(hands, sigma=1.2, amp=0.1)
    p.fill(hands_m, _FLESH, var=6, strokes=0)
    fig |= hands_m
    book = p.layer()
    cv2.fillPoly(book, [_poly([(446, 440), (500, 432), (506, 492), (452, 500)])], 255, cv2.LINE_AA, 4)
    book_m = p.painterly(book, sigma=1.2, amp=0.1)
    p.fill(book_m, (92, 56, 36), var=6, strokes=0)

    def book_dec(lay):
        cv2.polylines(lay, [_poly([(446, 440), (500, 432), (506, 492), (452, 500)])], True, 255, 3, cv2.LINE_AA, 4)
        cv2.circle(lay, _pt(476, 466), 16 * 7, 255, 2, cv2.LINE_AA, 4)

    p.blend(0.9 * p.line_layer(book_dec), _GOLD)
    fig |= book_m
    feet = p.layer()
    for fx in (398, 462):
        cv2.ellipse(feet, _pt(fx, 782), (16 * 20, 16 * 9), 0, 0, 360, 255, -1, cv2.LINE_AA, 4)
    feet_m = p.painterly(feet, sigma=1.2, amp=0.1)
    p.fill(feet_m, (84, 56, 40), var=5, strokes=0)
    fig |= feet_m

    # ---- object 2: a large rosette (12 petals and a golden centre)
    rx, ry = 890.0, 280.0
    ros = np.zeros((H, W), bool)
    for k in range(12):
        t = k * math.pi / 6 + 0.1
        petal = p.layer()
        cv2.ellipse(
            petal,
            _pt(rx + 62 * math.cos(t), ry + 62 * math.sin(t)),
            (16 * 56, 16 * 19),
            math.degrees(t),
            0,
            360,
            255,
            -1,
            cv2.LINE_AA,
            4,
        )
        pm = p.painterly(petal, sigma=1.8, amp=0.2)
        p.fill(pm, (176, 62, 46) if k % 2 == 0 else (66, 100, 128), var=8, strokes=8, jitter=10, angle=t)
        ros |= pm

    def petal_lines(lay):
        for k in range(12):
            t = k * math.pi / 6 + 0.1
            cv2.ellipse(
                lay,
                _pt(rx + 62 * math.cos(t), ry + 62 * math.sin(t)),
                (16 * 55, 16 * 18),
                math.degrees(t),
                0,
                360,
                255,
                2,
                cv2.LINE_AA,
                4,
            )
            cv2.line(
                lay,
                _pt(rx + 40 * math.cos(t), ry + 40 * math.sin(t)),
                _pt(rx + 100 * math.cos(t), ry + 100 * math.sin(t)),
                255,
                2,
                cv2.LINE_AA,
                4,
            )

    p.blend(0.65 * p.line_layer(petal_lines) * ros, (58, 30, 22))
    centre = p.layer()
    cv2.circle(centre, _pt(rx, ry), 16 * 38, 255, -1, cv2.LINE_AA, 4)
    cm = p.painterly(centre, sigma=1.5, amp=0.12)
    p.fill(cm, _GOLD, var=8, strokes=8, jitter=10)
    ros |= cm

    def centre_dec(lay):
        cv2.circle(lay, _pt(rx, ry), 16 * 30, 255, 3, cv2.LINE_AA, 4)
        cv2.circle(lay, _pt(rx, ry), 16 * 9, 255, -1, cv2.LINE_AA, 4)
        for a in range(0, 360, 30):
            t = math.radians(a + 15)
            cv2.circle(lay, _pt(rx + 20 * math.cos(t), ry + 20 * math.sin(t)), 16 * 3, 255, -1, cv2.LINE_AA, 4)

    p.blend(0.85 * p.line_layer(centre_dec), (150, 56, 36))

    # Inscription under the rosette.
    def inscription(lay):
        for text, y in (("S. MARTINVS", 500), ("EPISCOPVS", 560)):
            (tw, _th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_TRIPLEX, 1.5, 3)
            cv2.putText(lay, text, (int(890 - tw / 2), y), cv2.FONT_HERSHEY_TRIPLEX, 1.5, 255, 3, cv2.LINE_AA)

    ins = p.line_layer(inscription)
    p.blend(0.85 * cv2.GaussianBlur(ins, (0, 0), 0.7) * (p.edge_noise > -1.2), (112, 40, 30))

    # Faded areas: paint worn towards the plaster.
    fade = np.clip(_lowfreq(rng, PANEL_SIZE, (7, 5)) * 0.9 - 0.6, 0, 1) * 0.55
    fade *= np.clip(0.6 + 0.4 * _lowfreq(rng, PANEL_SIZE, (60, 45)), 0, 1)
    p.blend(fade, (226, 208, 172))

    # ---- object 3: a lacuna (paint lost, bare grey plaster with a rough edge)
    lx, ly = 960.0, 676.0
    th = np.linspace(0, 2 * math.pi, 90, endpoint=False)
    r = np.ones_like(th)
    for k in range(2, 7):
        r += rng.uniform(0.03, 0.12) / k * 2 * np.cos(k * th + rng.uniform(0, 2 * math.pi))
    pts = np.column_stack([lx + 120 * r * np.cos(th), ly + 78 * r * np.sin(th)])
    lac = p.layer()
    cv2.fillPoly(lac, [_poly(pts)], 255, cv2.LINE_AA, 4)
    lac_m = p.painterly(lac, sigma=3.0, amp=0.4) & field
    n_cc, cc, stats, _ = cv2.connectedComponentsWithStats(lac_m.astype(np.uint8), connectivity=8)
    if n_cc > 2:  # keep the main loss only: one clean ground-truth region
        lac_m = cc == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    # intonaco edge: a light rim around the loss, a shadow inside its upper-left edge
    rim = cv2.dilate(lac_m.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    p.blend(0.5 * (rim & ~lac_m), (236, 224, 196))
    p.fill(lac_m, _BARE, var=10, strokes=3, jitter=8, soft=0.5)
    grains = rng.randint(0, 256, (H // 2, W // 2)).astype(np.uint8)
    grains = cv2.resize(grains, (W, H), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    p.canvas += (lac_m * ((grains - 128) / 128.0) * 9.0)[..., None]
    shadow = lac_m & ~np.roll(np.roll(lac_m, 5, axis=0), 5, axis=1)
    p.blend(0.45 * cv2.GaussianBlur(shadow.astype(np.float32), (0, 0), 1.5), (80, 76, 70))

    # Cracks across everything (random walks with branches).
    cracks = p.layer()
    lips = p.layer()
    for _ in range(7):
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        a0 = rng.uniform(0, 2 * math.pi)
        stack = [(x, y, a0, int(rng.randint(40, 90)))]
        while stack:
            x, y, a0, n = stack.pop()
            a = a0
            pts = [(x, y)]
            for _s in range(n):
                a = a0 + 0.6 * (a - a0) + rng.normal(0, 0.45)  # zig-zag around a main direction
                a0 += rng.normal(0, 0.04)
                step = rng.uniform(3, 8)
                x, y = x + step * math.cos(a), y + step * math.sin(a)
                pts.append((x, y))
                if rng.uniform() < 0.02 and len(stack) < 2:
                    stack.append((x, y, a0 + rng.choice([-1, 1]) * rng.uniform(0.5, 1.0), int(rng.randint(10, 35))))
            cv2.polylines(cracks, [_poly(pts)], False, 255, 1, cv2.LINE_AA, 4)
            cv2.polylines(lips, [_poly(np.asarray(pts) + 1.2)], False, 255, 1, cv2.LINE_AA, 4)
    p.blend(0.35 * lips.astype(np.float32) / 255, (240, 230, 210))
    p.blend(0.6 * cracks.astype(np.float32) / 255, (66, 54, 44))

    # Ageing: slow dirt variation and plaster grain everywhere.
    p.canvas *= (1.0 + 0.05 * _lowfreq(rng, PANEL_SIZE, (12, 9)))[..., None]
    grain = _lowfreq(rng, PANEL_SIZE, (W // 3, H // 3))
    p.canvas += (3.0 * grain)[..., None]

    panel = np.clip(p.canvas + 0.5, 0, 255).astype(np.uint8)
    fig &= ~lac_m
    ros &= ~lac_m & ~fig
    masks = {1: fig & field, 2: ros & field, 3: lac_m}
    return panel, masks
