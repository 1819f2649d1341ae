"""The losses' old home: they now live in loss.py (as torch.nn.modules.loss); this module re-exports
them so `microtensor.nn.losses.X` keeps working."""

from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss"]
