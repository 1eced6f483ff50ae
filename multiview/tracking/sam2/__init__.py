"""SAM 2 video tracking engine (sam2 1.1.0): memory across views, corrections, candidates, feature cache.

Modules (import them directly; importing this package does not import torch):

* :mod:`.checkpoints`: model names, configs, official download addresses, safe loading.
* :mod:`.download`: download and verify official checkpoints.
* :mod:`.model`: build the predictor with the settings multiview needs.
* :mod:`.predictor`: sam2's video predictor with external features and recorded scores.
* :mod:`.frames`: frame sources (lazy project frames, in-memory arrays).
* :mod:`.cache`: backbone-feature cache (memory + disk, byte budgets).
* :mod:`.session`: prompts, forward/backward propagation, corrections (in memory).
* :mod:`.statestore`: the session's memory on disk (corrections across processes, resume).
* :mod:`.candidates`: the three candidate masks of a first click with their scores.
* :mod:`.tracker`: the ``sam2`` tracker of ``multiview track``.
* :mod:`.reference`: sam2's own loop, the yardstick of tests and benchmarks.
"""
