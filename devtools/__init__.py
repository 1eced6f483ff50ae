"""Developer tools of the multiview repository (not part of the installed package).

* :mod:`devtools.sample`: the synthetic fresco sample generator behind ``sequences/fresco``,
  used by the tests, the benchmarks and ``sequences/make_sample.py``.

Import it from a checkout (the repository root on ``sys.path``; pytest adds it).
"""
