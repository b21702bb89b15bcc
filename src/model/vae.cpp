#include "model/vae.hpp"

#include <algorithm>
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

// The kernels of the parts below, as free functions: nvcc refuses device lambdas inside
// private member functions.

// z = mean + exp(logvar / 2) * eps; h: (rows, 2 nz) mean | logvar.
void reparameterise(int rows, int nz, const Real* h, const Real* eps, Real* z) {
  Kokkos::parallel_for(
      "climvae::vae::sample", RangePolicy(0, rows * nz), KOKKOS_LAMBDA(const int i) {
        const int r = i / nz, f = i % nz;
        z[i] = h[r * 2 * nz + f] + kx::exp(Real(0.5) * h[r * 2 * nz + nz + f]) * eps[i];
      });
}

// [z, e_cell] per latent step: a gather, one thread per value.
void gather_decoder_input(int rows, int steps, int nz, int nd, int ne, const Real* z, const Real* emb,
                          const CellIndices& cells, Real* out) {
  const int* cell = cells.data();
  const bool per_cell = cells.extent(0) > 0;
  Kokkos::parallel_for(
      "climvae::vae::decoder_input", RangePolicy(0, rows * nd), KOKKOS_LAMBDA(const int i) {
        const int r = i / nd, c = i % nd;
        out[i] = c < nz ? z[r * nz + c] : emb[(per_cell ? cell[r / steps] : 0) * ne + (c - nz)];
      });
}

double squared_error(int n, const Real* x, const Real* x_hat) {
  double sum = 0;
  Kokkos::parallel_reduce(
      "climvae::vae::squared_error", RangePolicy(0, n),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const double d = static_cast<double>(x[i]) - x_hat[i];
        acc += d * d;
      },
      sum);
  return sum;
}

// sum KL(N(m, e^lv) || N(pm, e^plv)) over rows x features; h, p: (rows, 2 nz).
double kl_divergence(int rows, int nz, const Real* h, const Real* p) {
  double sum = 0;
  Kokkos::parallel_reduce(
      "climvae::vae::kl", RangePolicy(0, rows * nz),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const int r = i / nz, f = i % nz;
        const double m = h[r * 2 * nz + f], lv = h[r * 2 * nz + nz + f];
        const double pm = p[r * 2 * nz + f], plv = p[r * 2 * nz + nz + f];
        acc += 0.5 * (plv - lv + (kx::exp(lv) + (m - pm) * (m - pm)) * kx::exp(-plv) - 1.0);
      },
      sum);
  return sum;
}

// g = (x_hat - x) * scale
void reconstruction_grad(int n, const Real* x, const Real* x_hat, Real scale, Real* g) {
  Kokkos::parallel_for(
      "climvae::vae::grad_reconstruction", RangePolicy(0, n),
      KOKKOS_LAMBDA(const int i) { g[i] = (x_hat[i] - x[i]) * scale; });
}

// d (s * KL) / d prior (mean | logvar), the prior p being what each step's KL is taken against.
void kl_grad_prior(int rows, int nz, const Real* h, const Real* p, Real s, Real* gp) {
  Kokkos::parallel_for(
      "climvae::vae::grad_kl_prior", RangePolicy(0, rows * nz), KOKKOS_LAMBDA(const int i) {
        const int r = i / nz, f = i % nz;
        const int im = r * 2 * nz + f, iv = im + nz;
        const Real inv_pvar = kx::exp(-p[iv]);
        const Real diff = h[im] - p[im];
        const Real var_ratio = kx::exp(h[iv] - p[iv]);
        gp[im] = -diff * inv_pvar * s;
        gp[iv] = Real(0.5) * (Real(1) - var_ratio - diff * diff * inv_pvar) * s;
      });
}

// d loss / d encoder output (mean | logvar): through the sample z (decoder's dz, stride nd, plus
// the prior's dz when it depends on z) and the KL (scaled by s).
void latent_grad(int rows, int nz, int nd, const Real* h, const Real* p, const Real* eps, const Real* dz_dec,
                 const Real* dz_prior, Real s, Real* gh) {
  Kokkos::parallel_for(
      "climvae::vae::grad_latent", RangePolicy(0, rows * nz), KOKKOS_LAMBDA(const int i) {
        const int r = i / nz, f = i % nz;
        const int im = r * 2 * nz + f, iv = im + nz;
        const Real m = h[im], lv = h[iv], pm = p[im], plv = p[iv];
        const Real inv_pvar = kx::exp(-plv);
        const Real diff = m - pm;
        const Real var_ratio = kx::exp(lv - plv);
        const Real g = dz_prior ? dz_dec[r * nd + f] + dz_prior[i] : dz_dec[r * nd + f];
        gh[im] = g + diff * inv_pvar * s;
        gh[iv] = g * Real(0.5) * kx::exp(Real(0.5) * lv) * eps[i] + Real(0.5) * (var_ratio - Real(1)) * s;
      });
}

}  // namespace

Vae::Vae(const VaeConfig& config) : config_(config) {
  require(config.filters > 0 && config.filters <= kMaxChannels, "filters must be 1..", kMaxChannels);
  // latent <= kMaxChannels / 2, not 2 * latent <= kMaxChannels: a hand-edited latent of 2e9 overflowed the product.
  require(config.latent > 0 && config.latent <= kMaxChannels / 2, "latent features out of range");
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
  // New slices go last, so that a model without them has the seed's layout (and old files load).
  if (config.prior == PriorKind::temporal) layout.add("prior_ar.kernel", {config.ar_inputs(), z});
  if (config.embedding > 0) layout.add("cell_embedding.embeddings", {config.cells, config.embedding});
  prior_slices_.kernel = layout.find("prior.kernel");
  if (config.prior == PriorKind::temporal) prior_slices_.ar_kernel = layout.find("prior_ar.kernel");
  if (config.embedding > 0) prior_slices_.embedding = layout.find("cell_embedding.embeddings");
  noise_log_var_ = layout.find("noise_log_var");
  params_.allocate();
}

void Vae::initialize(uint64_t seed) {
  auto host = Kokkos::create_mirror_view(params_.values);
  Kokkos::deep_copy(host, Real(0));
  for (size_t si = 0; si < params_.layout.slices().size(); ++si) {
    const ParamSlice& s = params_.layout.slices()[si];
    if (s.shape.size() < 2) continue;             // biases and noise_log_var start at zero
    if (s.name == "prior_ar.kernel") continue;    // ρ = 0: training starts from the seed's prior
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
  const bool temporal = config_.prior == PriorKind::temporal;
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
  ar_pre_ = temporal ? view3("climvae::vae::prior_autoregression", batch, steps, z) : View3();
  cond_ = temporal ? view3("climvae::vae::prior_conditional", batch, steps, 2 * z) : prior_;
  // Gradients flow through two ping-pong buffers big enough for any layer's activation.
  const int widest = steps * kHoursPerStep / 3 * config_.filters;
  grad_a_ = view3("climvae::vae::grad_a", batch, 1, std::max(widest, steps * kHoursPerStep));
  grad_b_ = view3("climvae::vae::grad_b", batch, 1, std::max(widest, steps * kHoursPerStep));
  grad_latent_ = view3("climvae::vae::grad_latent", batch, steps, 2 * z);
  grad_cond_ = view3("climvae::vae::grad_prior_conditional", batch, steps, 2 * z);
  grad_prior_ = temporal ? view3("climvae::vae::grad_prior", batch, steps, 2 * z) : grad_cond_;
  grad_ar_pre_ = temporal ? view3("climvae::vae::grad_prior_autoregression", batch, steps, z) : View3();
  grad_z_ = temporal ? view3("climvae::vae::grad_z_prior", batch, steps, z) : View3();
  ws_batch_ = batch;
  ws_steps_ = steps;
}

void Vae::check_cells(const CellIndices& cells, size_t batch) const {
  if (cells.extent(0) == 0 || config_.embedding == 0) return;  // every window uses the one prior
  require(cells.extent(0) == batch, "cell indices must be one per window");
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), cells);
  for (size_t b = 0; b < batch; ++b)
    require(host(b) >= 0 && host(b) < config_.cells,
            "cell ", host(b), " has no embedding (the model has ", config_.cells, ")");
}

void Vae::prior(const View3& season, const CellIndices& cells, const View3& out) const {
  require(out.extent(0) == season.extent(0) && out.extent(1) == season.extent(1) &&
              static_cast<int>(out.extent(2)) == 2 * config_.latent &&
              static_cast<int>(season.extent(2)) == config_.fourier_features,
          "prior: shape mismatch");
  check_cells(cells, season.extent(0));
  VaeConfig marginal = config_;  // the marginal of each step: the seasonal part alone
  marginal.prior = PriorKind::seasonal;
  prior_forward(marginal, prior_slices_, params_.values, season, cells, out, View3());
}

void Vae::sample_prior(const View3& season, const CellIndices& cells, const View3& eps, const View3& z) const {
  const int batch = static_cast<int>(season.extent(0)), steps = static_cast<int>(season.extent(1));
  require(z.extent(0) == season.extent(0) && z.extent(1) == season.extent(1) &&
              static_cast<int>(z.extent(2)) == config_.latent,
          "sample_prior: z must be (batch, k, latent) like the seasonal features");
  check_cells(cells, season.extent(0));
  View3 marginal = view3("climvae::vae::sample_prior_marginal", batch, steps, 2 * config_.latent);
  View3 ar_pre;
  if (config_.prior == PriorKind::temporal) ar_pre = view3("climvae::vae::sample_prior_ar", batch, steps, config_.latent);
  prior_forward(config_, prior_slices_, params_.values, season, cells, marginal, ar_pre);
  prior_sample(marginal, ar_pre, eps, z);
}

void Vae::decoder_forward(const View3& z, const CellIndices& cells, const View3& out) {
  transpose_decoder_kernels();
  decoder_layers(z, cells, out);
}

void Vae::transpose_decoder_kernels() {
  decoder_up_kernels_.resize(decoder_.size());
  for (size_t i = 0; i < decoder_.size(); ++i) {
    const StridedLayer& l = decoder_[i];
    transpose_for_up(l.kernel, l.long_channels, l.short_channels, params_.value(l.weight).data(), decoder_up_kernels_[i]);
  }
}

void Vae::decoder_layers(const View3& z, const CellIndices& cells, const View3& out) {
  const int batch = static_cast<int>(z.extent(0)), steps = static_cast<int>(z.extent(1));
  const Real* in = z.data();
  const int nz = config_.latent, nd = config_.decoder_inputs();
  if (nd > nz) {
    gather_decoder_input(batch * steps, steps, nz, nd, config_.embedding, z.data(),
                         params_.values.data() + prior_slices_.embedding.offset, cells, dec_in_.data());
    in = dec_in_.data();
  }
  int len = steps;
  for (size_t i = 0; i < decoder_.size(); ++i) {
    const StridedLayer& l = decoder_[i];
    const StridedGeometry g = same_padding(len * l.stride, l.kernel, l.stride);
    Real* dst = i + 1 == decoder_.size() ? out.data() : dec_act_[i].data();
    strided_up_transposed(g, batch, l.long_channels, l.short_channels, in, decoder_up_kernels_[i].data(),
                          params_.value(l.bias).data(), dst, l.relu);
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
  // On a CPU, decode a few members at a time through every layer, so that each layer's output is
  // still in cache when the next layer reads it (decode_group). A member's values never depend on
  // its batch, so this changes no bit; a GPU takes the whole batch at once. The kernels are laid
  // out once for all groups.
  const int group = decode_group(batch, steps);
  allocate_workspace(group, steps);
  transpose_decoder_kernels();
  for (int b0 = 0; b0 < batch; b0 += group) {
    const Kokkos::pair<int, int> range(b0, std::min(batch, b0 + group));
    const CellIndices cells_of = cells.extent(0) ? CellIndices(Kokkos::subview(cells, range)) : cells;
    decoder_layers(Kokkos::subview(z, range, Kokkos::ALL, Kokkos::ALL), cells_of,
                   Kokkos::subview(out, range, Kokkos::ALL, Kokkos::ALL));
  }
}

int Vae::decode_group(int batch, int steps) const {
  if (!Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible) return batch;
  // The widest layer's output (its input is half as wide) kept within a core's L2: one-year traces
  // decode 2 members at a time, 4-7 % faster than 8 at 4 MiB (Xeon, 2 MiB of L2 per core).
  constexpr size_t kCacheBytesPerThread = size_t(1) << 20;
  const size_t widest = size_t(steps) * kHoursPerStep / decoder_.back().stride * config_.filters * sizeof(Real);
  const size_t fit = kCacheBytesPerThread * size_t(ExecSpace().concurrency()) / widest;
  return static_cast<int>(std::clamp<size_t>(fit, 1, size_t(batch)));
}

void Vae::encoder_forward(const View2& x) {
  const int batch = static_cast<int>(x.extent(0));
  const Real* in = x.data();
  int len = static_cast<int>(x.extent(1));
  for (size_t i = 0; i < encoder_.size(); ++i) {
    const StridedLayer& l = encoder_[i];
    const StridedGeometry g = same_padding(len, l.kernel, l.stride);
    strided_down(g, batch, l.long_channels, l.short_channels, in, params_.value(l.weight).data(),
                 params_.value(l.bias).data(), enc_act_[i].data(), l.relu);
    in = enc_act_[i].data();
    len = g.short_len;
  }
}

double Vae::noise_log_var() const {
  Real nlv = 0;
  Kokkos::deep_copy(nlv, Kokkos::subview(params_.values, noise_log_var_.offset));
  return nlv;
}

Real Vae::noise_sd() const { return std::exp(Real(0.5) * static_cast<Real>(noise_log_var())); }

LossParts Vae::loss(const View2& x) {
  const int batch = static_cast<int>(x.extent(0)), hours = static_cast<int>(x.extent(1));
  const double inv_bl = 1.0 / (static_cast<double>(batch) * hours);
  const double nlv = noise_log_var();
  const double sq_err = squared_error(batch * hours, x.data(), dec_act_.back().data());
  LossParts l;
  l.reconstruction = 0.5 * (batch * static_cast<double>(hours) * (kLog2Pi + nlv) + sq_err * std::exp(-nlv)) * inv_bl;
  l.kl = kl_divergence(batch * ws_steps_, config_.latent, enc_act_.back().data(), cond_.data()) * inv_bl;
  squared_error_ = sq_err;
  return l;
}

// From d loss / d x_hat back through the decoder: the layers' gradients, and d loss / d [z, e_cell].
const Real* Vae::decoder_backward(const View2& x, double sq_err) {
  const int batch = static_cast<int>(x.extent(0)), hours = static_cast<int>(x.extent(1));
  const double inv_bl = 1.0 / (static_cast<double>(batch) * hours);
  const double nlv = noise_log_var();
  // d recon / d x_hat = (x_hat - x) exp(-nlv) / (B L); d recon / d nlv = 0.5 (1 - sq_err exp(-nlv) / (B L)).
  reconstruction_grad(batch * hours, x.data(), dec_act_.back().data(), static_cast<Real>(std::exp(-nlv) * inv_bl),
                      grad_a_.data());
  const Real dnlv = static_cast<Real>(0.5 * (1.0 - sq_err * std::exp(-nlv) * inv_bl));
  Kokkos::deep_copy(Kokkos::subview(params_.grads, noise_log_var_.offset), dnlv);
  Real* g_out = grad_a_.data();
  Real* g_in = grad_b_.data();
  bool through_relu = false;  // whether g_out already went back through its layer's ReLU
  for (int i = static_cast<int>(decoder_.size()) - 1; i >= 0; --i) {
    const StridedLayer& l = decoder_[i];
    const int long_len = static_cast<int>(dec_act_[i].extent(1));
    const StridedGeometry g = same_padding(long_len, l.kernel, l.stride);
    const Real* input = i > 0 ? dec_act_[i - 1].data() : (config_.decoder_inputs() > config_.latent ? dec_in_.data() : z_.data());
    if (l.relu && !through_relu)
      relu_backward(static_cast<size_t>(batch) * long_len * l.long_channels, dec_act_[i].data(), g_out);
    strided_weight_grad(g, batch, l.long_channels, l.short_channels, g_out, input, params_.grad(l.weight).data(),
                        scratch_partials_);
    column_sums(batch * long_len, l.long_channels, g_out, params_.grad(l.bias).data(), scratch_partials_);
    // The gradient for the layer below, through that layer's ReLU in the same kernel.
    through_relu = i > 0 && decoder_[i - 1].relu;
    strided_down(g, batch, l.long_channels, l.short_channels, g_out, params_.value(l.weight).data(), nullptr, g_in, false,
                 through_relu ? input : nullptr);
    std::swap(g_out, g_in);
  }
  return g_out;
}

// The latent step: d loss / d encoder output, through the sample and the KL, and the prior's own
// gradients (the KL's other side, and for the temporal prior its dependence on the sample).
void Vae::latent_backward(const View3& eps, const Real* grad_decoder_input) {
  const int rows = ws_batch_ * ws_steps_, nz = config_.latent;
  const Real s = static_cast<Real>(1.0 / (static_cast<double>(ws_batch_) * ws_steps_ * kHoursPerStep));
  const Real* h = enc_act_.back().data();
  kl_grad_prior(rows, nz, h, cond_.data(), s, grad_cond_.data());
  const bool temporal = config_.prior == PriorKind::temporal;
  if (temporal) prior_conditional_backward(prior_, ar_pre_, z_, grad_cond_, grad_prior_, grad_ar_pre_, grad_z_);
  latent_grad(rows, nz, config_.decoder_inputs(), h, cond_.data(), eps.data(), grad_decoder_input,
              temporal ? grad_z_.data() : nullptr, s, grad_latent_.data());
}

// From d loss / d encoder output back through the encoder to its weights (not to the data).
void Vae::encoder_backward(const View2& x) {
  const int batch = static_cast<int>(x.extent(0)), hours = static_cast<int>(x.extent(1));
  Real* g_out = grad_latent_.data();
  Real* ping = grad_a_.data();
  Real* pong = grad_b_.data();
  bool through_relu = false;  // whether g_out already went back through its layer's ReLU
  for (int i = static_cast<int>(encoder_.size()) - 1; i >= 0; --i) {
    const StridedLayer& l = encoder_[i];
    const int long_len = i > 0 ? static_cast<int>(enc_act_[i - 1].extent(1)) : hours;
    const StridedGeometry g = same_padding(long_len, l.kernel, l.stride);
    const Real* input = i > 0 ? enc_act_[i - 1].data() : x.data();
    if (l.relu && !through_relu)
      relu_backward(static_cast<size_t>(batch) * g.short_len * l.short_channels, enc_act_[i].data(), g_out);
    strided_weight_grad(g, batch, l.long_channels, l.short_channels, input, g_out, params_.grad(l.weight).data(),
                        scratch_partials_);
    column_sums(batch * g.short_len, l.short_channels, g_out, params_.grad(l.bias).data(), scratch_partials_);
    if (i == 0) break;  // no gradient with respect to the data
    Real* g_in_enc = g_out == ping ? pong : ping;
    // The gradient for the layer below, through that layer's ReLU in the same kernel.
    through_relu = encoder_[i - 1].relu;
    strided_up(g, batch, l.long_channels, l.short_channels, g_out, params_.value(l.weight).data(), nullptr, g_in_enc,
               false, scratch_transpose_, through_relu ? input : nullptr);
    g_out = g_in_enc;
  }
}

int Vae::check_window(const View2& x, const View3& eps) const {
  const int batch = static_cast<int>(x.extent(0)), hours = static_cast<int>(x.extent(1));
  const int steps = hours / kHoursPerStep;
  require(batch >= 1 && steps >= 1 && hours == steps * kHoursPerStep,
          "VAE input must be (batch >= 1, 96k hours), got ", hours, " hours");
  require(eps.extent(0) == x.extent(0) && static_cast<int>(eps.extent(1)) == steps &&
              static_cast<int>(eps.extent(2)) == config_.latent,
          "eps must be (batch, k, latent)");
  return steps;
}

void Vae::encode_sample_decode(const View2& x, const CellIndices& cells, const View3& eps, const View3& out) {
  const int batch = static_cast<int>(x.extent(0));
  const int steps = check_window(x, eps);
  require(out.extent(0) == x.extent(0) && out.extent(1) == x.extent(1) && out.extent(2) == 1,
          "encode_sample_decode: output must be (batch, 96k, 1)");
  check_cells(cells, x.extent(0));
  allocate_workspace(batch, steps);
  encoder_forward(x);
  reparameterise(batch * steps, config_.latent, enc_act_.back().data(), eps.data(), z_.data());
  decoder_forward(z_, cells, out);
}

LossParts Vae::forward_backward(const View2& x, const View3& season, const CellIndices& cells, const View3& eps,
                                bool compute_gradients) {
  const int batch = static_cast<int>(x.extent(0));
  const int steps = check_window(x, eps);
  const int nz = config_.latent;
  require(season.extent(0) == x.extent(0) && static_cast<int>(season.extent(1)) == steps &&
              static_cast<int>(season.extent(2)) == config_.fourier_features,
          "seasonal features must be (batch, k, 6)");
  check_cells(cells, x.extent(0));
  allocate_workspace(batch, steps);

  encoder_forward(x);
  reparameterise(batch * steps, nz, enc_act_.back().data(), eps.data(), z_.data());
  decoder_forward(z_, cells, dec_act_.back());
  prior_forward(config_, prior_slices_, params_.values, season, cells, prior_, ar_pre_);
  if (config_.prior == PriorKind::temporal) prior_conditional_forward(prior_, ar_pre_, z_, cond_);
  const LossParts l = loss(x);
  if (!compute_gradients) return l;

  const Real* grad_decoder_input = decoder_backward(x, squared_error_);
  latent_backward(eps, grad_decoder_input);
  prior_backward(config_, prior_slices_, params_.values, season, cells, grad_prior_, grad_ar_pre_,
                 config_.decoder_inputs() > nz ? grad_decoder_input : nullptr, params_.grads);
  encoder_backward(x);
  return l;
}

}  // namespace climvae
