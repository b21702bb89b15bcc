"""climvae's network in PyTorch.

`ClimVAE` is the network of src/model/vae.cpp (and of its LibTorch twin,
src/reference/torch_vae.cpp) as a `torch.nn.Module` whose parameters carry the names and
layouts that `climvae export` writes, so a trained model loads with
`load_state_dict(torch.load(path), strict=True)`. See docs/pytorch.md.
"""
from .model import (ClimVAE, HOURS_PER_STEP, FOURIER_FEATURES, day_of_year, load_exported,
                    season_phase_days, seasonal_features)

__all__ = ["ClimVAE", "HOURS_PER_STEP", "FOURIER_FEATURES", "day_of_year", "load_exported",
           "season_phase_days", "seasonal_features"]
