"""The climvae VAE as a torch.nn.Module (docs/model.md, docs/pytorch.md).

Shapes: hourly series x (B, 96k) standardised values; latents (B, k, latent) with one step per
96 hours; seasonal features (B, k, 6); cells (B) int64 rows of the cell embedding.
"""
import datetime
import math

import torch
from torch import nn
import torch.nn.functional as F

HOURS_PER_STEP = 96          # product of the encoder strides 3*2*2*2*2*2
FOURIER_FEATURES = 6         # sin θ, sin 2θ, sin 3θ, cos θ, cos 2θ, cos 3θ
DAYS_PER_STEP = 4.0
ENCODER_LAYERS = [(5, 3)] + [(3, 2)] * 5   # (kernel, stride) of each Conv1D
DECODER_LAYERS = [(3, 2)] * 5 + [(5, 3)]   # (kernel, stride) of each Conv1DTranspose
LOG_2PI = math.log(2.0 * math.pi)


def same_padding(long_len, kernel, stride):
    """Keras 'same' between a long side of long_len steps and its short side: (left, total) padding."""
    short_len = -(-long_len // stride)
    total = max((short_len - 1) * stride + kernel - long_len, 0)
    return total // 2, total


def day_of_year(when):
    """0-based fractional day of year of a datetime (local solar time), as climvae counts it."""
    jan1 = datetime.datetime(when.year, 1, 1, tzinfo=when.tzinfo)
    return (when - jan1).total_seconds() / 86400.0


def season_phase_days(latitude):
    """The day-of-year shift of a cell's seasonal features: half a year south of the equator."""
    return 365.0 / 2 if latitude < 0 else 0.0


def seasonal_features(first_day_of_year, steps, phase_days=0.0):
    """(steps, 6) features of a window whose first hour is on `first_day_of_year` (0-based,
    fractional, local solar time): step j sits on day (d0 + 4j) mod 365."""
    features = torch.empty(steps, FOURIER_FEATURES, dtype=torch.float64)
    d0 = first_day_of_year + phase_days
    for j in range(steps):
        theta = 2.0 * math.pi * math.fmod(d0 + DAYS_PER_STEP * j, 365.0) / 365.0
        features[j] = torch.tensor([math.sin(theta), math.sin(2 * theta), math.sin(3 * theta),
                                    math.cos(theta), math.cos(2 * theta), math.cos(3 * theta)])
    return features.to(torch.float32)


class ClimVAE(nn.Module):
    """Encoder Conv1D(40,5,3) relu, 4 x Conv1D(40,3,2) relu, Conv1D(2·latent,3,2); decoder
    5 x Conv1DTranspose(40,3,2) relu, Conv1DTranspose(1,5,3); a bias-free Dense seasonal prior
    on [f, f⊗e, e]; the decoder conditioned on e; a learned noise log-variance. With
    `temporal`, the prior's latent steps are an AR(1) process whose coefficient
    ρ = tanh([1, f, e]·W) is learned (`prior_ar`)."""

    def __init__(self, latent=10, filters=40, cells=1, embedding=0, condition_decoder=True,
                 prior_bias=True, temporal=False):
        super().__init__()
        self.latent, self.filters, self.cells, self.embedding = latent, filters, cells, embedding
        self.condition_decoder = condition_decoder and embedding > 0
        self.prior_bias = prior_bias and embedding > 0
        self.temporal = temporal
        self.encoder = nn.ModuleList(
            [nn.Conv1d(1, filters, 5, 3)] + [nn.Conv1d(filters, filters, 3, 2) for _ in range(4)]
            + [nn.Conv1d(filters, 2 * latent, 3, 2)])
        decoder_inputs = latent + (embedding if self.condition_decoder else 0)
        self.decoder = nn.ModuleList(
            [nn.ConvTranspose1d(decoder_inputs, filters, 3, 2)]
            + [nn.ConvTranspose1d(filters, filters, 3, 2) for _ in range(4)]
            + [nn.ConvTranspose1d(filters, 1, 5, 3)])
        prior_inputs = FOURIER_FEATURES * (1 + embedding) + (embedding if self.prior_bias else 0)
        self.prior = nn.Linear(prior_inputs, 2 * latent, bias=False)
        self.noise_log_var = nn.Parameter(torch.zeros(1))
        if embedding > 0:
            self.cell_embedding = nn.Embedding(cells, embedding)
        if temporal:
            self.prior_ar = nn.Linear(1 + FOURIER_FEATURES + embedding, latent, bias=False)

    @classmethod
    def from_state_dict(cls, state):
        """A ClimVAE shaped for a `climvae export` state dict, with its weights loaded (strict)."""
        def shape(name):
            if name not in state:
                raise ValueError(f"state dict has no '{name}': not a climvae export")
            return tuple(state[name].shape)
        filters, latent = shape("encoder.0.weight")[0], shape("encoder.5.weight")[0] // 2
        cells, embedding = shape("cell_embedding.weight") if "cell_embedding.weight" in state else (1, 0)
        # With an embedding, older model files condition the prior only (no decoder input, no
        # prior offset): the shapes say which.
        decoder_inputs, prior_inputs = shape("decoder.0.weight")[0], shape("prior.weight")[1]
        model = cls(latent=latent, filters=filters, cells=cells, embedding=embedding,
                    condition_decoder=embedding > 0 and decoder_inputs == latent + embedding,
                    prior_bias=embedding > 0 and prior_inputs == FOURIER_FEATURES * (1 + embedding) + embedding,
                    temporal="prior_ar.weight" in state)
        model.load_state_dict(state, strict=True)
        return model

    def _cells(self, cells, batch, device):
        if cells is None:
            return torch.zeros(batch, dtype=torch.long, device=device)
        # Checked for every model: a one-cell model ignored cells=[5] (cell 0's traces came back),
        # a float 1.7 became row 1, an embedding's out-of-range row said only "index out of range".
        cells = torch.as_tensor(cells, device=device)
        if (cells.dtype.is_floating_point or cells.dtype == torch.bool or tuple(cells.shape) != (batch,)
                or (cells.numel() and (cells.min() < 0 or cells.max() >= self.cells))):
            raise ValueError(f"cells must be ({batch},) integer rows 0..{self.cells - 1}, "
                             f"got {cells.dtype} {tuple(cells.shape)}"
                             + (f" from {cells.min().item()} to {cells.max().item()}" if cells.numel() else ""))
        return cells.to(torch.long)

    def encode(self, x):
        """x (B, 96k) -> z mean, z log-variance (B, k, latent)."""
        if x.dim() != 2 or x.shape[1] == 0 or x.shape[1] % HOURS_PER_STEP:
            raise ValueError(f"x must be (batch, 96k), got {tuple(x.shape)}")
        h = x.unsqueeze(1)
        for i, (layer, (kernel, stride)) in enumerate(zip(self.encoder, ENCODER_LAYERS)):
            left, total = same_padding(h.shape[2], kernel, stride)
            h = layer(F.pad(h, (left, total - left)))
            if i + 1 < len(self.encoder):
                h = torch.relu(h)
        h = h.transpose(1, 2)
        return h[..., :self.latent], h[..., self.latent:]

    def decode(self, z, cells=None):
        """z (B, k, latent), cells (B) -> (B, 96k) standardised hours (the mean, no noise)."""
        if z.dim() != 3 or z.shape[2] != self.latent:
            raise ValueError(f"z must be (batch, k, {self.latent}), got {tuple(z.shape)}")
        h = z
        cells = self._cells(cells, z.shape[0], z.device)
        if self.condition_decoder:
            e = self.cell_embedding(cells)
            h = torch.cat([h, e.unsqueeze(1).expand(-1, z.shape[1], -1)], 2)
        h = h.transpose(1, 2)
        for i, (layer, (kernel, stride)) in enumerate(zip(self.decoder, DECODER_LAYERS)):
            out_len = h.shape[2] * stride
            left, _ = same_padding(out_len, kernel, stride)
            h = layer(h).narrow(2, left, out_len)   # full (n-1)s + K output, cropped as Keras
            if i + 1 < len(self.decoder):
                h = torch.relu(h)
        return h.squeeze(1)

    def _embedding_rows(self, cells, batch, device):
        return self.cell_embedding(self._cells(cells, batch, device))

    def prior_parameters(self, season, cells=None):
        """season (B, k, 6) -> prior mean, prior log-variance (B, k, latent)."""
        if season.dim() != 3 or season.shape[2] != FOURIER_FEATURES:
            raise ValueError(f"season must be (batch, k, {FOURIER_FEATURES}), got {tuple(season.shape)}")
        cells = self._cells(cells, season.shape[0], season.device)
        f = season
        if self.embedding > 0:
            e = self._embedding_rows(cells, season.shape[0], season.device)
            fe = (f.unsqueeze(3) * e[:, None, None, :]).flatten(2)
            parts = [f, fe] + ([e.unsqueeze(1).expand(-1, f.shape[1], -1)] if self.prior_bias else [])
            f = torch.cat(parts, 2)
        p = self.prior(f)
        return p[..., :self.latent], p[..., self.latent:]

    def prior_correlation(self, season, cells=None):
        """ρ (B, k, latent) of the temporal prior: tanh([1, f, e]·W)."""
        parts = [torch.ones_like(season[..., :1]), season]
        if self.embedding > 0:
            e = self._embedding_rows(cells, season.shape[0], season.device)
            parts.append(e.unsqueeze(1).expand(-1, season.shape[1], -1))
        return torch.tanh(self.prior_ar(torch.cat(parts, 2)))

    def sample_latent(self, season, cells=None, generator=None):
        """z (B, k, latent) drawn from the prior (AR(1) in time with `temporal`)."""
        mean, log_var = self.prior_parameters(season, cells)
        scale = torch.exp(0.5 * log_var)
        eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
        if not self.temporal:
            return mean + scale * eps
        rho = self.prior_correlation(season, cells)
        u = [eps[:, 0]]
        for t in range(1, mean.shape[1]):
            u.append(rho[:, t] * u[-1] + torch.sqrt(1 - rho[:, t] ** 2) * eps[:, t])
        return mean + scale * torch.stack(u, 1)

    @torch.no_grad()
    def sample(self, season, cells=None, generator=None, add_noise=False):
        """Traces (B, 96k) of standardised hours sampled from the prior (docs/pytorch.md turns
        them into kelvin with the model file's per-cell offset, scale and trend)."""
        x = self.decode(self.sample_latent(season, cells, generator), cells)
        if add_noise:
            x = x + torch.exp(0.5 * self.noise_log_var) * torch.randn(x.shape, generator=generator,
                                                                     dtype=x.dtype, device=x.device)
        return x

    def kl(self, z_mean, z_log_var, z, season, cells=None):
        """Σ KL(q(z|x) ‖ prior) over steps and features, per window (B)."""
        m, plv = self.prior_parameters(season, cells)
        if self.temporal:
            s = torch.exp(0.5 * plv)
            rho = self.prior_correlation(season, cells)
            u_prev = (z[:, :-1] - m[:, :-1]) / s[:, :-1]
            m = torch.cat([m[:, :1], m[:, 1:] + s[:, 1:] * rho[:, 1:] * u_prev], 1)
            plv = torch.cat([plv[:, :1], plv[:, 1:] + torch.log1p(-rho[:, 1:] ** 2)], 1)
        kl = 0.5 * (plv - z_log_var + (torch.exp(z_log_var) + (z_mean - m) ** 2) * torch.exp(-plv) - 1)
        return kl.sum((1, 2))

    def loss(self, x, season, cells=None, eps=None):
        """climvae's training loss on windows x (B, 96k): (reconstruction, kl), each summed and
        divided by batch·hours as the engine does; eps (B, k, latent) fixes the sample."""
        z_mean, z_log_var = self.encode(x)
        # One season row per window and step: (1, k, 6) was broadcast over the batch silently.
        if season.dim() != 3 or tuple(season.shape[:2]) != tuple(z_mean.shape[:2]):
            raise ValueError(f"season must be {tuple(z_mean.shape[:2]) + (FOURIER_FEATURES,)} for x "
                             f"{tuple(x.shape)}, got {tuple(season.shape)}")
        if eps is None:
            eps = torch.randn_like(z_mean)
        z = z_mean + torch.exp(0.5 * z_log_var) * eps
        x_hat = self.decode(z, cells)
        n = x.numel()
        nlv = self.noise_log_var
        reconstruction = 0.5 * ((LOG_2PI + nlv) * n + ((x - x_hat) ** 2).sum() * torch.exp(-nlv)) / n
        kl = self.kl(z_mean, z_log_var, z, season, cells).sum() / n
        return reconstruction.squeeze(), kl


def load_exported(path, map_location="cpu"):
    """The ClimVAE of a `climvae export` file (strict load)."""
    return ClimVAE.from_state_dict(torch.load(path, map_location=map_location))
