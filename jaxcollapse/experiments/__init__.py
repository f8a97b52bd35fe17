"""Named experiments: presets that compute the data behind a paper's figure (no I/O here)."""

from .scaling_law import scaling_law as scaling_law
