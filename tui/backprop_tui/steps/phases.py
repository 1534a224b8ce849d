"""The phases of an epoch as a person reads them: 'Forward pass', 'Hidden layer 2'."""

from __future__ import annotations

PHASE_LABELS = {
    "forward": "Forward pass",
    "error": "Error",
    "output": "Output layer",
    "hidden": "Hidden layer",
    "batch": "Batch",  # several examples: a batch's gradients combined, its new values
    "update": "Updates",
}


def phase_label(phase: str) -> str:
    """'hidden2' reads 'Hidden layer 2'; the rest come from PHASE_LABELS."""
    if phase in PHASE_LABELS:
        return PHASE_LABELS[phase]
    return f"Hidden layer {phase.removeprefix('hidden')}"
