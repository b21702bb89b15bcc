// The LibTorch twin of climvae::Vae (docs/model.md): the same network written with
// torch ops, used as the autograd oracle of the Kokkos engine, as its speed peer in bench/, and
// to export trained weights as a PyTorch state dict.
//
// Layout: torch ops run in NCW (batch, channels, time); inputs and outputs keep the engine's
// shapes ((B, L) series, (B, k, features) latents). Keras 'same' padding is explicit: the
// convolution pads floor(pad_total / 2) zeros on the left and the rest on the right; the
// transposed convolution computes the full (n-1)*s + K output and crops the same left amount.
//
// Parameter names (named_parameters(), state dict) and their mapping from the engine's
// Keras-order slices:
//   encoder.i.weight (C_out, C_in, K)  = encoder.i.kernel (K, C_in, C_out).permute(2, 1, 0)
//                                         -- torch.nn.Conv1d layout
//   encoder.i.bias   (C_out)           = encoder.i.bias
//   decoder.i.weight (C_in, C_out, K)  = decoder.i.kernel (K, C_out, C_in).permute(2, 1, 0)
//                                         -- torch.nn.ConvTranspose1d layout
//   decoder.i.bias   (C_out)           = decoder.i.bias
//   prior.weight     (2z, 6(1+E))      = prior.kernel (6(1+E), 2z).t()  -- torch.nn.Linear, no bias
//   noise_log_var    (1)               = noise_log_var
//   prior_ar.weight  (z, 1+6+E)        = prior_ar.kernel (1+6+E, z).t()  -- the temporal prior's
//                                         autoregression, torch.nn.Linear, no bias; only when
//                                         config.prior is temporal
//   cell_embedding.weight (C, E)       = cell_embedding.embeddings (C, E)  -- torch.nn.Embedding,
//                                         only when the model has an embedding (E > 0)
// The prior's input is cat(f, (f[..., :, None] * e[cell][:, None, None, :]).flatten(-2)), f the
// 6 Fourier features; the decoder's input (when config.condition_decoder) is
// cat(z, e[cell][:, None, :].expand(B, k, E)), so decoder.0.weight is (z + E, f, 3)
// (docs/model.md).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "engine/param_buffer.hpp"
#include "model/vae.hpp"

namespace climvae::reference {

// One strided layer's weight and bias, named like torch.nn.Conv1d / ConvTranspose1d.
struct StridedParamsImpl : torch::nn::Module {
  StridedParamsImpl(std::vector<int64_t> weight_shape, int64_t bias_size);
  torch::Tensor weight, bias;
};
TORCH_MODULE(StridedParams);

// The prior's bias-free Dense weight, named like torch.nn.Linear(6, 2z, bias=False).
struct DenseParamsImpl : torch::nn::Module {
  DenseParamsImpl(int64_t in_features, int64_t out_features);
  torch::Tensor weight;  // (out, in)
};
TORCH_MODULE(DenseParams);

// Everything one forward pass produces. Latent tensors are (B, k, latent); x_hat is (B, L);
// the losses are scalars with the engine's normalisation (summed, averaged over the batch,
// divided by L).
struct TorchVaeOutputs {
  torch::Tensor z_mean, z_log_var, z, x_hat;
  torch::Tensor prior_mean, prior_log_var;  // each step's marginal
  torch::Tensor cond_mean, cond_log_var;    // what each step's KL is taken against (given z_{t-1})
  torch::Tensor reconstruction_loss, kl_loss, total_loss;
};

class TorchVae : public torch::nn::Module {
 public:
  explicit TorchVae(const VaeConfig& config = VaeConfig());

  const VaeConfig& config() const { return config_; }

  // Engine <-> torch parameters. The layout must be Vae(config()).params().layout (names and
  // shapes are checked); flat is in that layout's order and Keras shapes.
  void load_keras_flat(const std::vector<float>& flat, const ParamLayout& layout);
  std::vector<float> to_keras_flat(const ParamLayout& layout) const;
  // The parameters' .grad() in the same Keras-order flat layout (zeros where undefined).
  std::vector<float> gradients_to_keras_flat(const ParamLayout& layout) const;

  // x: (B, 96k), season: (B, k, 6), cells: (B) int64 embedding rows, eps: (B, k, latent);
  // converted to the parameters' dtype. Without cells every window is cell 0.
  TorchVaeOutputs forward(const torch::Tensor& x, const torch::Tensor& season, const torch::Tensor& cells,
                          const torch::Tensor& eps);
  TorchVaeOutputs forward(const torch::Tensor& x, const torch::Tensor& season, const torch::Tensor& eps);
  // z: (B, k, latent), cells: (B) int64 -> (B, 96k).
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& cells);
  torch::Tensor decode(const torch::Tensor& z);
  // season: (B, k, 6), cells: (B) int64 -> (B, k, 2*latent): prior mean | prior log-variance.
  torch::Tensor prior(const torch::Tensor& season, const torch::Tensor& cells);
  torch::Tensor prior(const torch::Tensor& season);
  // Temporal prior: (B, k, latent) pre-activations a of ρ = tanh(a), inputs [1, f, e[cell]].
  torch::Tensor autoregression(const torch::Tensor& season, const torch::Tensor& cells);

 private:
  VaeConfig config_;
  std::vector<int> encoder_kernel_, encoder_stride_, decoder_kernel_, decoder_stride_;
  torch::nn::ModuleList encoder_, decoder_;
  DenseParams prior_{nullptr};
  DenseParams prior_ar_{nullptr};  // only for the temporal prior
  torch::nn::Embedding cell_embedding_{nullptr};  // only when config_.embedding > 0
  torch::Tensor noise_log_var_;
};

// Writes the parameters as a PyTorch state dict: a dict {name: tensor} (float32, torch
// layouts, names as above) serialised with torch::pickle_save, i.e. the zip format that
// Python's torch.load reads (torch.load(path) -> dict; model.load_state_dict(...)).
// Written to PATH.tmp-<host>-<pid> and renamed. Throws climvae::Error naming the path.
void save_state_dict(const TorchVae& model, const std::string& path);
// Reads such a file (or one written by Python's torch.save(model.state_dict(), path)) into
// model; every parameter must be present with its shape. Throws climvae::Error.
void load_state_dict(TorchVae& model, const std::string& path);

}  // namespace climvae::reference
