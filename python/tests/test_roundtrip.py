"""PyTorch round trip: `climvae export` loads into climvae_torch.ClimVAE with strict=True, and
for the same z the PyTorch decode equals climvae's within 1e-5, and the PyTorch loss on a
window equals climvae's. Also: a fine-tuning step and prior sampling run, a wrong state dict
is refused, and the temporal prior reduces to the seasonal one when its ρ is 0.

Usage: test_roundtrip.py CLIMVAE_EXPORT DUMP_CLIMVAE TRAINED.model WORKDIR
"""
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from climvae_torch import ClimVAE, load_exported, seasonal_features  # noqa: E402

failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f" ({detail})" if detail else ""))
    if not ok:
        failures.append(name)


def read_dump(path):
    arrays = {}
    with open(path) as f:
        lines = f.read().splitlines()
    for header, values in zip(lines[0::2], lines[1::2]):
        name, *dims = header.split()
        arrays[name] = torch.tensor([float(v) for v in values.split()], dtype=torch.float64).reshape(
            [int(d) for d in dims])
    return arrays


def round_trip(label, model_path, export, dump, workdir):
    state_path = os.path.join(workdir, label + ".pt")
    dump_path = os.path.join(workdir, label + ".txt")
    subprocess.run([export, "--model", model_path, "--output", state_path, "--overwrite"], check=True)
    subprocess.run([dump, model_path, dump_path], check=True)
    state = torch.load(state_path)
    model = ClimVAE.from_state_dict(state)          # load_state_dict(strict=True) inside
    check(f"{label}: strict load of {len(state)} tensors", len(state) == len(model.state_dict()))
    ref = read_dump(dump_path)
    cells = ref["cells"].reshape(-1).long()
    with torch.no_grad():
        decoded = model.decode(ref["z"].float(), cells)
        diff = (decoded.double() - ref["decoded"].squeeze(2)).abs().max().item()
        check(f"{label}: decode of the same z within 1e-5", diff <= 1e-5, f"max |diff| {diff:.2e}")
        x = ref["x"].squeeze(2).float()
        recon, kl = model.loss(x, ref["season"].float(), cells, ref["eps"].float())
    want_recon, want_kl = ref["loss"].reshape(-1).tolist()
    for name, got, want in (("reconstruction", recon.item(), want_recon), ("KL", kl.item(), want_kl)):
        rel = abs(got - want) / max(abs(want), 1e-12)
        check(f"{label}: {name} loss equals climvae's", rel <= 1e-5, f"{got:.7g} vs {want:.7g}")
    return model, state, ref, cells


def fine_tune_and_sample(model, ref, cells):
    x = ref["x"].squeeze(2).float()
    season = ref["season"].float()
    torch.manual_seed(0)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    eps = torch.randn(x.shape[0], x.shape[1] // 96, model.latent)
    before = sum(model.loss(x, season, cells, eps)).item()
    for _ in range(20):
        optimiser.zero_grad()
        total = sum(model.loss(x, season, cells, eps))
        total.backward()
        optimiser.step()
    after = sum(model.loss(x, season, cells, eps)).item()
    check("fine-tuning lowers the loss on its windows", after < before, f"{before:.4f} -> {after:.4f}")
    traces = model.sample(season, cells, generator=torch.Generator().manual_seed(1))
    check("prior samples have the window's shape", tuple(traces.shape) == tuple(x.shape))


def temporal_prior(state, ref, cells):
    base = ClimVAE.from_state_dict(state)
    with_ar = dict(state)
    inputs = 1 + 6 + base.embedding
    with_ar["prior_ar.weight"] = torch.zeros(base.latent, inputs)
    temporal = ClimVAE.from_state_dict(with_ar)
    check("prior_ar in the state dict makes the model temporal", temporal.temporal and not base.temporal)
    x, season = ref["x"].squeeze(2).float(), ref["season"].float()
    eps = ref["eps"].float()
    with torch.no_grad():
        a = sum(base.loss(x, season, cells, eps)).item()
        b = sum(temporal.loss(x, season, cells, eps)).item()
        check("ρ = 0: the temporal prior's loss is the seasonal prior's", abs(a - b) <= 1e-6 * abs(a), f"{a} {b}")
        with_ar["prior_ar.weight"] = torch.full((base.latent, inputs), 0.5)
        temporal.load_state_dict(with_ar, strict=True)
        c = sum(temporal.loss(x, season, cells, eps)).item()
        check("ρ ≠ 0 changes the loss", abs(c - a) > 1e-4, f"{a} {c}")
        # The latent steps of prior samples with ρ ≈ 1 hardly move: u_t ≈ u_{t-1}.
        with_ar["prior_ar.weight"] = torch.zeros(base.latent, inputs)
        with_ar["prior_ar.weight"][:, 0] = 20.0
        temporal.load_state_dict(with_ar, strict=True)
        long_season = seasonal_features(0.0, 8).expand(512, -1, -1)
        z = temporal.sample_latent(long_season, torch.zeros(512, dtype=torch.long), torch.Generator().manual_seed(3))
        m, plv = temporal.prior_parameters(long_season, torch.zeros(512, dtype=torch.long))
        u = (z - m) / torch.exp(0.5 * plv)
        step = (u[:, 1:] - u[:, :-1]).abs().max().item()
        check("ρ ≈ 1: AR(1) latent steps follow each other", step < 1e-3 and 0.8 < u.std().item() < 1.2,
              f"max step {step:.1e}, sd {u.std().item():.3f}")


def refusals(state):
    bad = dict(state)
    bad["prior.weight"] = bad["prior.weight"][:, :-1]
    model = ClimVAE.from_state_dict(state)
    try:
        model.load_state_dict(bad, strict=True)
        check("a wrong-shaped tensor is refused", False)
    except RuntimeError as e:
        check("a wrong-shaped tensor is refused", "prior.weight" in str(e))
    season = seasonal_features(0.0, 2).unsqueeze(0)
    try:  # a one-cell model ignored the cells argument: cell 0's traces for cell 5
        model.sample(season, cells=torch.tensor([5]))
        check("a cell the model does not have is refused", False)
    except ValueError as e:
        check("a cell the model does not have is refused", "rows 0..0" in str(e), str(e))
    try:  # one season row for two windows was broadcast silently
        model.loss(torch.zeros(2, 192), season)
        check("a season of another batch size is refused", False)
    except ValueError as e:
        check("a season of another batch size is refused", "season must be (2, 2, 6)" in str(e), str(e))
    try:
        ClimVAE.from_state_dict({"weight": torch.zeros(1)})
        check("a state dict that is not a climvae export is refused", False)
    except ValueError as e:
        check("a state dict that is not a climvae export is refused", "encoder.0.weight" in str(e))


def main():
    export, dump, trained, workdir = sys.argv[1:5]
    os.makedirs(workdir, exist_ok=True)
    torch.set_num_threads(1)
    model, state, ref, cells = round_trip("trained", trained, export, dump, workdir)
    random_model = os.path.join(workdir, "embedding.model")
    subprocess.run([dump, "--random", "3", "3", "11", random_model], check=True)
    emb_model, emb_state, emb_ref, emb_cells = round_trip("embedding", random_model, export, dump, workdir)
    check("the embedding model conditions prior and decoder",
          emb_model.embedding == 3 and emb_model.condition_decoder and emb_model.prior_bias)
    fine_tune_and_sample(emb_model, emb_ref, emb_cells)
    temporal_prior(emb_state, emb_ref, emb_cells)
    # climvae's temporal prior (rho != 0): PyTorch's loss and decode equal climvae's too.
    temporal_model = os.path.join(workdir, "temporal.model")
    subprocess.run([dump, "--random", "3", "3", "12", temporal_model, "temporal"], check=True)
    tmp_model, _, _, _ = round_trip("temporal", temporal_model, export, dump, workdir)
    check("the temporal model has the autoregression", tmp_model.temporal)
    refusals(state)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
