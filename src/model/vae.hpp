// The seed VAE (docs/model.md) on the Kokkos engine: a strided Conv1D encoder from
// hourly values to one latent step of 10 features per 96 hours, a mirrored Conv1DTranspose
// decoder, a bias-free Dense seasonal prior on 6 Fourier features and a learned noise
// log-variance. Any number k >= 1 of 96-hour steps, in training and in generation.
// Many cells, one network: the prior's input is the Fourier features f and, with an embedding
// of E > 0 values per cell, also f ⊗ e_cell (docs/model.md); with E = 0 it is the seed's.
// The prior itself (seasonal or temporal) lives in model/prior.*; this class assembles the parts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/param_buffer.hpp"
#include "engine/strided_conv.hpp"
#include "engine/types.hpp"
#include "model/prior.hpp"

namespace climvae {

struct VaeConfig {
  int filters = 40;          // channels of every hidden layer
  int latent = 10;           // latent features per 96-hour step
  int fourier_features = 6;  // sin θ, sin 2θ, sin 3θ, cos θ, cos 2θ, cos 3θ
  int cells = 1;             // cells with an embedding row (used only when embedding > 0)
  int embedding = 0;         // learned values per cell conditioning the prior; 0 = the seed's prior
  // With an embedding, also condition the decoder: e_cell, broadcast over the latent steps, is
  // appended to z as `embedding` extra input channels of decoder.0 (model files before
  // version 3 condition the prior only).
  bool condition_decoder = true;
  // With an embedding, e_cell is also an input of the prior: a per-cell latent offset. The
  // Fourier terms alone average to zero over the year for every cell, so without it no cell's
  // latent codes can sit apart from the others' (model files before version 4 lack it).
  bool prior_bias = true;
  // The seed's independent steps, or steps that follow a seasonal AR(1) (model/prior.hpp).
  PriorKind prior = PriorKind::seasonal;

  // Inputs of the prior's Dense layer: f, then f_i * e_j at fourier + i * embedding + j, then
  // (with prior_bias) e_j at fourier * (1 + embedding) + j.
  int prior_inputs() const { return fourier_features * (1 + embedding) + (prior_bias ? embedding : 0); }
  // Inputs of the temporal prior's autoregression: 1, f, then e_cell.
  int ar_inputs() const { return 1 + fourier_features + embedding; }
  // Input channels of the decoder's first layer: z, then e_cell.
  int decoder_inputs() const { return latent + (condition_decoder ? embedding : 0); }
};

// One strided layer: w is (kernel, long_channels, short_channels) in Keras order.
struct StridedLayer {
  std::string name;
  int kernel = 0, stride = 0, long_channels = 0, short_channels = 0;
  bool relu = false;
  ParamSlice weight, bias;
};

struct LossParts {
  double reconstruction = 0;  // -sum log N(x | x_hat, exp(noise_log_var)) / (batch * L)
  double kl = 0;              // sum KL(q(z|x) || prior) / (batch * L)
  double total() const { return reconstruction + kl; }
};

class Vae {
 public:
  static constexpr int kHoursPerStep = 96;  // product of the strides 3*2*2*2*2*2

  explicit Vae(const VaeConfig& config = VaeConfig());

  const VaeConfig& config() const { return config_; }
  ParamBuffers& params() { return params_; }
  const ParamBuffers& params() const { return params_; }
  const std::vector<StridedLayer>& encoder() const { return encoder_; }
  const std::vector<StridedLayer>& decoder() const { return decoder_; }

  // Keras defaults: Glorot-uniform kernels, zero biases, noise_log_var = 0. Deterministic in seed.
  void initialize(uint64_t seed);

  // x: (B, 96k) standardised hours, season: (B, k, 6), cells: (B) embedding rows (empty: all
  // cell 0), eps: (B, k, latent) standard normals. Runs encoder, sampling, decoder and prior;
  // returns the loss parts. With compute_gradients the gradient of the total loss overwrites
  // params().grads.
  LossParts forward_backward(const View2& x, const View3& season, const CellIndices& cells, const View3& eps,
                             bool compute_gradients = true);
  LossParts forward_backward(const View2& x, const View3& season, const View3& eps, bool compute_gradients = true) {
    return forward_backward(x, season, CellIndices(), eps, compute_gradients);
  }

  // Activations of the last forward_backward (valid until the next call).
  View3 encoder_output() const { return enc_act_.back(); }  // (B, k, 2*latent): z mean | z log-variance
  View3 latent_sample() const { return z_; }                // (B, k, latent)
  View3 reconstruction() const { return dec_act_.back(); }  // (B, 96k, 1)
  View3 prior_output() const { return prior_; }             // (B, k, 2*latent): marginal mean | log-variance
  View3 prior_conditional() const { return cond_; }         // (B, k, 2*latent): given the previous step's z
  View3 prior_autoregression() const { return ar_pre_; }    // (B, k, latent): pre-activation of ρ (temporal)

  // Generation. season: (B, k, 6), cells: (B) or empty -> out: (B, k, 2*latent) prior mean | log-variance
  // (the marginal of each step).
  void prior(const View3& season, const CellIndices& cells, const View3& out) const;
  void prior(const View3& season, const View3& out) const { prior(season, CellIndices(), out); }
  // z: (B, k, latent) sampled from the prior along each trace's steps, given standard normals
  // eps: (B, k, latent); season: (B, k, 6), cells: (B) or empty.
  void sample_prior(const View3& season, const CellIndices& cells, const View3& eps, const View3& z) const;
  // z: (B, k, latent), cells: (B) or empty -> out: (B, 96k, 1). Uses internal workspace (not
  // thread-safe).
  void decode(const View3& z, const CellIndices& cells, const View3& out);
  void decode(const View3& z, const View3& out) { decode(z, CellIndices(), out); }
  // The decode of one posterior draw: x (B, 96k) standardised hours, z = mean + sd * eps from the
  // encoder with eps (B, k, latent) standard normals -> out (B, 96k, 1), equal to reconstruction()
  // after forward_backward. Computes no loss, so it runs no reduction (those use scratch that
  // Kokkos shares between threads); like decode, it uses only this instance's workspace.
  void encode_sample_decode(const View2& x, const CellIndices& cells, const View3& eps, const View3& out);
  // Standard deviation of the learned observation noise, exp(noise_log_var / 2).
  Real noise_sd() const;

 private:
  // The parts of forward_backward, in order (each a short forward or backward pass).
  int check_window(const View2& x, const View3& eps) const;  // -> latent steps
  void allocate_workspace(int batch, int steps);
  void encoder_forward(const View2& x);
  void decoder_forward(const View3& z, const CellIndices& cells, const View3& out);  // the two below
  void transpose_decoder_kernels();  // the decoder's kernels laid out for strided_up_transposed
  void decoder_layers(const View3& z, const CellIndices& cells, const View3& out);
  int decode_group(int batch, int steps) const;  // members that decode() takes through the layers at once
  LossParts loss(const View2& x);
  double noise_log_var() const;
  const Real* decoder_backward(const View2& x, double sq_err);  // -> d loss / d [z, e_cell]
  void latent_backward(const View3& eps, const Real* grad_decoder_input);
  void encoder_backward(const View2& x);
  void check_cells(const CellIndices& cells, size_t batch) const;

  VaeConfig config_;
  ParamBuffers params_;
  std::vector<StridedLayer> encoder_, decoder_;
  PriorSlices prior_slices_;
  ParamSlice noise_log_var_;

  // Workspace for one (batch, steps) shape.
  int ws_batch_ = 0, ws_steps_ = 0;
  std::vector<View3> enc_act_, dec_act_;  // outputs of each layer
  View3 z_, dec_in_, prior_, ar_pre_, cond_;  // dec_in_: [z, e_cell]; cond_ aliases prior_ (seasonal)
  View3 grad_a_, grad_b_, grad_latent_, grad_cond_, grad_prior_, grad_ar_pre_, grad_z_;
  View1 scratch_transpose_, scratch_partials_;
  std::vector<View1> decoder_up_kernels_;  // of the current parameters, by transpose_decoder_kernels
  double squared_error_ = 0;  // of the last loss(), for decoder_backward
};

}  // namespace climvae
