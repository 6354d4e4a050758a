"""Personal soundtracks: a listener's profile, a model of their taste, and the player's memory.

Stages: ``profile`` (a local SQLite file per player) → ``taste`` (a Bayesian preference model that
Thompson-samples the next phrase's settings inside the spec's bounds) → ``personaliser`` (the model
wired to the engine: it hears feedback and play-style signals, and its choices go into the control
log) → ``simulate`` (a population of simulated listeners to measure it) → ``report`` and ``cli``.
Nothing here uses the network: a profile never leaves the machine.
"""
