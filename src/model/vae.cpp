#include "model/vae.hpp"

#include <cmath>
#include <string>

#include "common/error.hpp"
#include "engine/kokkos_compat.hpp"
#include "engine/random.hpp"

namespace climvae {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;

StridedLayer make_layer(ParamLayout& layout, const std::string& name, int kernel, int stride, int long_ch,
                        int short_ch, bool relu, int bias_channels) {
  StridedLayer l;
  l.name = name;
  l.kernel = kernel;
  l.stride = stride;
  l.long_channels = long_ch;
  l.short_channels = short_ch;
  l.relu = relu;
  layout.add(name + ".kernel", {kernel, long_ch, short_ch});
  layout.add(name + ".bias", {bias_channels});
  l.weight = layout.find(name + ".kernel");
  l.bias = layout.find(name + ".bias");
  return l;
}

View3 view3(const std::string& label, int a, int b, int c) {
  return View3(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), a, b, c);
}

}  // namespace

Vae::Vae(const VaeConfig& config) : config_(config) {
  require(config.filters > 0 && config.filters <= kMaxChannels, "filters must be 1.." + std::to_string(kMaxChannels));
  require(config.latent > 0 && 2 * config.latent <= kMaxChannels, "latent features out of range");
  require(config.fourier_features == 6, "the seasonal prior uses 6 Fourier features");
  require(config.cells >= 1 && config.embedding >= 0 && config.embedding <= 64,
          "cells must be >= 1 and the cell embedding 0..64 values");
  const int f = config.filters, z = config.latent;
  auto& layout = params_.layout;
  // Encoder: Conv1D(f,5,3) relu, 4 x Conv1D(f,3,2) relu, Conv1D(2z,3,2) linear. Conv1D: long = input.
  encoder_.push_back(make_layer(layout, "encoder.0", 5, 3, 1, f, true, f));
  for (int i = 1; i <= 4; ++i) encoder_.push_back(make_layer(layout, "encoder." + std::to_string(i), 3, 2, f, f, true, f));
  encoder_.push_back(make_layer(layout, "encoder.5", 3, 2, f, 2 * z, false, 2 * z));
  // Decoder: 5 x Conv1DTranspose(f,3,2) relu, Conv1DTranspose(1,5,3) linear. Transposed: long = output.
  // decoder.0's input is z, then (when conditioned) the cell embedding: kernel (3, f, z [+ E]).
  decoder_.push_back(make_layer(layout, "decoder.0", 3, 2, f, config.decoder_inputs(), true, f));
  for (int i = 1; i <= 4; ++i) decoder_.push_back(make_layer(layout, "decoder." + std::to_string(i), 3, 2, f, f, true, f));
  decoder_.push_back(make_layer(layout, "decoder.5", 5, 3, 1, f, false, 1));
  layout.add("prior.kernel", {config.prior_inputs(), 2 * z});
  layout.add("noise_log_var", {1});
  // Last, so that a model without embedding has the seed's layout (and version 1 files load).
  if (config.embedding > 0) layout.add("cell_embedding.embeddings", {config.cells, config.embedding});
  prior_kernel_ = layout.find("prior.kernel");
  noise_log_var_ = layout.find("noise_log_var");
  if (config.embedding > 0) embedding_ = layout.find("cell_embedding.embeddings");
  params_.allocate();
}

void Vae::initialize(uint64_t seed) {
  auto host = Kokkos::create_mirror_view(params_.values);
  Kokkos::deep_copy(host, Real(0));
  for (size_t si = 0; si < params_.layout.slices().size(); ++si) {
    const ParamSlice& s = params_.layout.slices()[si];
    if (s.shape.size() < 2) continue;  // biases and noise_log_var start at zero
    // Glorot uniform with Keras' fans: receptive field times the last two dimensions.
    double receptive = 1;
    for (size_t d = 0; d + 2 < s.shape.size(); ++d) receptive *= s.shape[d];
    const double fan_in = receptive * s.shape[s.shape.size() - 2];
    const double fan_out = receptive * s.shape.back();
    const double limit = std::sqrt(6.0 / (fan_in + fan_out));
    const uint64_t key = stream_key(seed, si);
    for (size_t i = 0; i < s.size; ++i)
      host(s.offset + i) = static_cast<Real>(limit * (2.0 * uniform01(key, i) - 1.0));
  }
  Kokkos::deep_copy(params_.values, host);
}

void Vae::allocate_workspace(int batch, int steps) {
  if (batch == ws_batch_ && steps == ws_steps_) return;
  const int z = config_.latent;
  enc_act_.clear();
  dec_act_.clear();
  int len = steps * kHoursPerStep;
  for (const auto& l : encoder_) {
    len = (len + l.stride - 1) / l.stride;
    enc_act_.push_back(view3("climvae::vae::encoder_activation", batch, len, l.short_channels));
  }
  for (const auto& l : decoder_) {
    len *= l.stride;
    dec_act_.push_back(view3("climvae::vae::decoder_activation", batch, len, l.long_channels));
  }
  z_ = view3("climvae::vae::z", batch, steps, z);
  if (config_.decoder_inputs() > z) dec_in_ = view3("climvae::vae::decoder_input", batch, steps, config_.decoder_inputs());
  prior_ = view3("climvae::vae::prior", batch, steps, 2 * z);
  // Gradients flow through two ping-pong buffers big enough for any layer's activation.
  const int widest = steps * kHoursPerStep / 3 * config_.filters;
  grad_a_ = view3("climvae::vae::grad_a", batch, 1, std::max(widest, steps * kHoursPerStep));
  grad_b_ = view3("climvae::vae::grad_b", batch, 1, std::max(widest, steps * kHoursPerStep));
  grad_latent_ = view3("climvae::vae::grad_latent", batch, steps, 2 * z);
  grad_prior_ = view3("climvae::vae::grad_prior", batch, steps, 2 * z);
  ws_batch_ = batch;
  ws_steps_ = steps;
}

void Vae::check_cells(const CellIndices& cells, size_t batch) const {
  if (cells.extent(0) == 0 || config_.embedding == 0) return;  // every window uses the one prior
  require(cells.extent(0) == batch, "cell indices must be one per window");
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), cells);
  for (size_t b = 0; b < batch; ++b)
    require(host(b) >= 0 && host(b) < config_.cells,
            "cell " + std::to_string(host(b)) + " has no embedding (the model has " + std::to_string(config_.cells) + ")");
}

void Vae::prior(const View3& season, const CellIndices& cells, const View3& out) const {
  // season: (B, k, F), cells: (B), embedding: (C, E), kernel: (F (1 + E), 2z) -> out: (B, k, 2z)
  // out[r, c] = sum_f s[r, f] (W[f, c] + sum_e emb[cell, e] W[F + f E + e, c])
  //            + sum_e emb[cell, e] W[F (1 + E) + e, c]   (prior_bias)
  const int steps = static_cast<int>(season.extent(1));
  const int rows = static_cast<int>(season.extent(0)) * steps;
  const int nf = config_.fourier_features, nc = 2 * config_.latent, ne = config_.embedding;
  const int bias_row = nf * (1 + ne), nb = config_.prior_bias ? ne : 0;
  require(out.extent(0) == season.extent(0) && out.extent(1) == season.extent(1) &&
              static_cast<int>(out.extent(2)) == nc && static_cast<int>(season.extent(2)) == nf,
          "prior: shape mismatch");
  check_cells(cells, season.extent(0));
  const Real* s = season.data();
  const Real* w = params_.values.data() + prior_kernel_.offset;
  const Real* emb = params_.values.data() + embedding_.offset;
  const int* cell = cells.data();
  const bool per_cell = cells.extent(0) > 0;
  Real* o = out.data();
  Kokkos::parallel_for(
      "climvae::vae::prior", RangePolicy(0, rows * nc), KOKKOS_LAMBDA(const int i) {
        const int r = i / nc, c = i % nc;
        const Real* e = emb + (per_cell ? cell[r / steps] : 0) * ne;
        Real acc = 0;
        for (int f = 0; f < nf; ++f) {
          Real wf = w[f * nc + c];
          for (int j = 0; j < ne; ++j) wf += e[j] * w[(nf + f * ne + j) * nc + c];
          acc += s[r * nf + f] * wf;
        }
        for (int j = 0; j < nb; ++j) acc += e[j] * w[(bias_row + j) * nc + c];
        o[i] = acc;
      });
}

void Vae::decoder_forward(const View3& z, const CellIndices& cells, int batch, int steps, const View3& out) {
  const Real* in = z.data();
  const int nz = config_.latent, nd = config_.decoder_inputs();
  if (nd > nz) {
    // [z, e_cell] per latent step: a gather, one thread per value.
    const Real* zz = z.data();
    const Real* emb = params_.values.data() + embedding_.offset;
    const int* cell = cells.data();
    const bool per_cell = cells.extent(0) > 0;
    const int ne = config_.embedding;
    Real* d = dec_in_.data();
    Kokkos::parallel_for(
        "climvae::vae::decoder_input", RangePolicy(0, batch * steps * nd), KOKKOS_LAMBDA(const int i) {
          const int r = i / nd, c = i % nd;
          d[i] = c < nz ? zz[r * nz + c] : emb[(per_cell ? cell[r / steps] : 0) * ne + (c - nz)];
        });
    in = d;
  }
  int len = steps;
  for (size_t i = 0; i < decoder_.size(); ++i) {
    const StridedLayer& l = decoder_[i];
    const StridedGeometry g = same_padding(len * l.stride, l.kernel, l.stride);
    Real* dst = i + 1 == decoder_.size() ? out.data() : dec_act_[i].data();
    strided_up(g, batch, l.long_channels, l.short_channels, in, params_.value(l.weight).data(),
               params_.value(l.bias).data(), dst, l.relu, scratch_transpose_);
    in = dst;
    len *= l.stride;
  }
}

void Vae::decode(const View3& z, const CellIndices& cells, const View3& out) {
  const int batch = static_cast<int>(z.extent(0)), steps = static_cast<int>(z.extent(1));
  require(steps >= 1 && static_cast<int>(z.extent(2)) == config_.latent, "decode: z must be (batch, k >= 1, latent)");
  require(out.extent(0) == z.extent(0) && out.extent(1) == static_cast<size_t>(steps) * kHoursPerStep && out.extent(2) == 1,
          "decode: output must be (batch, 96k, 1)");
  check_cells(cells, z.extent(0));
  allocate_workspace(batch, steps);
  decoder_forward(z, cells, batch, steps, out);
}

LossParts Vae::forward_backward(const View2& x, const View3& season, const CellIndices& cells, const View3& eps,
                                bool compute_gradients) {
  const int batch = static_cast<int>(x.extent(0));
  const int hours = static_cast<int>(x.extent(1));
  const int steps = hours / kHoursPerStep;
  const int nz = config_.latent;
  require(batch >= 1 && steps >= 1 && hours == steps * kHoursPerStep,
          "VAE input must be (batch >= 1, 96k hours), got " + std::to_string(hours) + " hours");
  require(season.extent(0) == x.extent(0) && static_cast<int>(season.extent(1)) == steps &&
              static_cast<int>(season.extent(2)) == config_.fourier_features,
          "seasonal features must be (batch, k, 6)");
  require(eps.extent(0) == x.extent(0) && static_cast<int>(eps.extent(1)) == steps && static_cast<int>(eps.extent(2)) == nz,
          "eps must be (batch, k, latent)");
  allocate_workspace(batch, steps);

  // Encoder.
  const Real* in = x.data();
  int len = hours;
  for (size_t i = 0; i < encoder_.size(); ++i) {
    const StridedLayer& l = encoder_[i];
    const StridedGeometry g = same_padding(len, l.kernel, l.stride);
    strided_down(g, batch, l.long_channels, l.short_channels, in, params_.value(l.weight).data(),
                 params_.value(l.bias).data(), enc_act_[i].data(), l.relu);
    in = enc_act_[i].data();
    len = g.short_len;
  }
  // Reparameterised sample z = mean + exp(logvar / 2) * eps.
  {
    const Real* h = enc_act_.back().data();
    const Real* e = eps.data();
    Real* zz = z_.data();
    Kokkos::parallel_for(
        "climvae::vae::sample", RangePolicy(0, batch * steps * nz), KOKKOS_LAMBDA(const int i) {
          const int r = i / nz, f = i % nz;
          zz[i] = h[r * 2 * nz + f] + kx::exp(Real(0.5) * h[r * 2 * nz + nz + f]) * e[i];
        });
  }
  check_cells(cells, x.extent(0));
  decoder_forward(z_, cells, batch, steps, dec_act_.back());
  prior(season, cells, prior_);

  // Loss.
  const double inv_bl = 1.0 / (static_cast<double>(batch) * hours);
  const Real* xv = x.data();
  const Real* xh = dec_act_.back().data();
  LossParts loss;
  double sq_err = 0;
  Kokkos::parallel_reduce(
      "climvae::vae::squared_error", RangePolicy(0, batch * hours),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const double d = static_cast<double>(xv[i]) - xh[i];
        acc += d * d;
      },
      sq_err);
  Real nlv = 0;
  Kokkos::deep_copy(nlv, Kokkos::subview(params_.values, noise_log_var_.offset));
  loss.reconstruction = 0.5 * (batch * static_cast<double>(hours) * (kLog2Pi + nlv) + sq_err * std::exp(-nlv)) * inv_bl;
  {
    const Real* h = enc_act_.back().data();
    const Real* p = prior_.data();
    Kokkos::parallel_reduce(
        "climvae::vae::kl", RangePolicy(0, batch * steps * nz),
        KOKKOS_LAMBDA(const int i, double& acc) {
          const int r = i / nz, f = i % nz;
          const double m = h[r * 2 * nz + f], lv = h[r * 2 * nz + nz + f];
          const double pm = p[r * 2 * nz + f], plv = p[r * 2 * nz + nz + f];
          acc += 0.5 * (plv - lv + (kx::exp(lv) + (m - pm) * (m - pm)) * kx::exp(-plv) - 1.0);
        },
        loss.kl);
    loss.kl *= inv_bl;
  }
  if (!compute_gradients) return loss;

  // d recon / d x_hat = (x_hat - x) exp(-nlv) / (B L); d recon / d nlv = 0.5 (1 - sq_err exp(-nlv) / (B L)).
  {
    const Real scale = static_cast<Real>(std::exp(-nlv) * inv_bl);
    Real* g = grad_a_.data();
    Kokkos::parallel_for(
        "climvae::vae::grad_reconstruction", RangePolicy(0, batch * hours),
        KOKKOS_LAMBDA(const int i) { g[i] = (xh[i] - xv[i]) * scale; });
    const Real dnlv = static_cast<Real>(0.5 * (1.0 - sq_err * std::exp(-nlv) * inv_bl));
    Kokkos::deep_copy(Kokkos::subview(params_.grads, noise_log_var_.offset), dnlv);
  }
  // Decoder backward: gradient at each layer's output (long side) -> weights, bias, input.
  Real* g_out = grad_a_.data();
  Real* g_in = grad_b_.data();
  for (int i = static_cast<int>(decoder_.size()) - 1; i >= 0; --i) {
    const StridedLayer& l = decoder_[i];
    const int long_len = static_cast<int>(dec_act_[i].extent(1));
    const StridedGeometry g = same_padding(long_len, l.kernel, l.stride);
    const Real* input = i > 0 ? dec_act_[i - 1].data() : (config_.decoder_inputs() > nz ? dec_in_.data() : z_.data());
    if (l.relu) relu_backward(static_cast<size_t>(batch) * long_len * l.long_channels, dec_act_[i].data(), g_out);
    strided_weight_grad(g, batch, l.long_channels, l.short_channels, g_out, input, params_.grad(l.weight).data(),
                        scratch_partials_);
    column_sums(batch * long_len, l.long_channels, g_out, params_.grad(l.bias).data());
    strided_down(g, batch, l.long_channels, l.short_channels, g_out, params_.value(l.weight).data(), nullptr, g_in, false);
    std::swap(g_out, g_in);
  }
  // Latent: g_out now holds d loss / d [z, e_cell] (B, k, nd). Add the KL terms, split into mean/logvar.
  const Real* dz_dec = g_out;
  const int nd = config_.decoder_inputs();
  {
    const Real* dz = g_out;
    const Real* h = enc_act_.back().data();
    const Real* p = prior_.data();
    const Real* e = eps.data();
    Real* gh = grad_latent_.data();
    Real* gp = grad_prior_.data();
    const Real s = static_cast<Real>(inv_bl);
    Kokkos::parallel_for(
        "climvae::vae::grad_latent", RangePolicy(0, batch * steps * nz), KOKKOS_LAMBDA(const int i) {
          const int r = i / nz, f = i % nz;
          const int im = r * 2 * nz + f, iv = im + nz;
          const Real m = h[im], lv = h[iv], pm = p[im], plv = p[iv];
          const Real inv_pvar = kx::exp(-plv);
          const Real diff = m - pm;
          const Real var_ratio = kx::exp(lv - plv);
          const Real g = dz[r * nd + f];
          gh[im] = g + diff * inv_pvar * s;
          gh[iv] = g * Real(0.5) * kx::exp(Real(0.5) * lv) * e[i] + Real(0.5) * (var_ratio - Real(1)) * s;
          gp[im] = -diff * inv_pvar * s;
          gp[iv] = Real(0.5) * (Real(1) - var_ratio - diff * diff * inv_pvar) * s;
        });
  }
  // Prior kernel: dW[g, c] = sum_{b,j} input[b,j,g] * gp[b,j,c], input = (f, f ⊗ e_cell, e_cell).
  // Embedding: de[q, e] = sum over rows of cell q of sum_{f,c} f * W[F + f E + e, c] * gp[c]
  // + sum_c W[F (1 + E) + e, c] * gp[c] (prior bias) + d loss / d dec_in[latent + e] (decoder).
  // One thread per output, looping over rows: no atomics, the same sums on every backend.
  {
    const int rows = batch * steps, nf = config_.fourier_features, nc = 2 * nz, ne = config_.embedding;
    const int ni = config_.prior_inputs(), bias_row = nf * (1 + ne), nb = config_.prior_bias ? ne : 0;
    const Real* sf = season.data();
    const Real* gp = grad_prior_.data();
    const Real* w = params_.values.data() + prior_kernel_.offset;
    const Real* emb = params_.values.data() + embedding_.offset;
    const int* cell = cells.data();
    const bool per_cell = cells.extent(0) > 0;
    Real* dw = params_.grads.data() + prior_kernel_.offset;
    Kokkos::parallel_for(
        "climvae::vae::grad_prior_kernel", RangePolicy(0, ni * nc), KOKKOS_LAMBDA(const int i) {
          const int g = i / nc, c = i % nc;
          Real acc = 0;
          if (g >= bias_row) {  // input e_j of the per-cell offset
            for (int r = 0; r < rows; ++r) acc += emb[(per_cell ? cell[r / steps] : 0) * ne + g - bias_row] * gp[r * nc + c];
          } else {
            const int f = g < nf ? g : (g - nf) / ne, e = g < nf ? -1 : (g - nf) % ne;
            for (int r = 0; r < rows; ++r) {
              const Real scale = e < 0 ? Real(1) : emb[(per_cell ? cell[r / steps] : 0) * ne + e];
              acc += sf[r * nf + f] * scale * gp[r * nc + c];
            }
          }
          dw[i] = acc;
        });
    if (ne > 0) {
      Real* de = params_.grads.data() + embedding_.offset;
      Kokkos::parallel_for(
          "climvae::vae::grad_cell_embedding", RangePolicy(0, config_.cells * ne), KOKKOS_LAMBDA(const int i) {
            const int q = i / ne, e = i % ne;
            Real acc = 0;
            for (int r = 0; r < rows; ++r) {
              if ((per_cell ? cell[r / steps] : 0) != q) continue;
              if (nd > nz) acc += dz_dec[r * nd + nz + e];
              if (nb > 0)
                for (int c = 0; c < nc; ++c) acc += w[(bias_row + e) * nc + c] * gp[r * nc + c];
              for (int f = 0; f < nf; ++f) {
                Real dot = 0;
                for (int c = 0; c < nc; ++c) dot += w[(nf + f * ne + e) * nc + c] * gp[r * nc + c];
                acc += sf[r * nf + f] * dot;
              }
            }
            de[i] = acc;
          });
    }
  }
  // Encoder backward: gradient at each layer's output (short side) -> weights, bias, input.
  g_out = grad_latent_.data();
  Real* ping = grad_a_.data();
  Real* pong = grad_b_.data();
  for (int i = static_cast<int>(encoder_.size()) - 1; i >= 0; --i) {
    const StridedLayer& l = encoder_[i];
    const int long_len = i > 0 ? static_cast<int>(enc_act_[i - 1].extent(1)) : hours;
    const StridedGeometry g = same_padding(long_len, l.kernel, l.stride);
    const Real* input = i > 0 ? enc_act_[i - 1].data() : x.data();
    if (l.relu) relu_backward(static_cast<size_t>(batch) * g.short_len * l.short_channels, enc_act_[i].data(), g_out);
    strided_weight_grad(g, batch, l.long_channels, l.short_channels, input, g_out, params_.grad(l.weight).data(),
                        scratch_partials_);
    column_sums(batch * g.short_len, l.short_channels, g_out, params_.grad(l.bias).data());
    if (i == 0) break;  // no gradient with respect to the data
    Real* g_in_enc = g_out == ping ? pong : ping;
    strided_up(g, batch, l.long_channels, l.short_channels, g_out, params_.value(l.weight).data(), nullptr, g_in_enc,
               false, scratch_transpose_);
    g_out = g_in_enc;
  }
  return loss;
}

}  // namespace climvae
