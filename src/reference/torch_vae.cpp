#include "reference/torch_vae.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/error.hpp"
#include "engine/strided_conv.hpp"

namespace climvae::reference {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() > suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Keras Embedding tables (C, E) are torch.nn.Embedding's (C, E): the one slice kind kept as is.
bool is_embedding(const std::string& keras_name) { return ends_with(keras_name, ".embeddings"); }

// The torch parameter that holds a Keras slice, and the Keras <-> torch conversion.
std::string torch_name_of(const std::string& keras_name) {
  for (const std::string suffix : {".kernel", ".embeddings"})
    if (ends_with(keras_name, suffix)) return keras_name.substr(0, keras_name.size() - suffix.size()) + ".weight";
  return keras_name;
}

// Keras kernels (K, a, b) become torch (b, a, K) and the Dense kernel (F, C) becomes (C, F):
// both reverse the dimensions, which is its own inverse. Embeddings keep their order.
torch::Tensor keras_to_torch(const torch::Tensor& keras, const std::string& keras_name) {
  if (is_embedding(keras_name)) return keras;
  std::vector<int64_t> reversed(keras.dim());
  for (int64_t d = 0; d < keras.dim(); ++d) reversed[d] = keras.dim() - 1 - d;
  return keras.permute(reversed);
}
torch::Tensor torch_to_keras(const torch::Tensor& t, const std::string& keras_name) {
  return keras_to_torch(t, keras_name);
}

torch::Tensor find_parameter(const torch::nn::Module& model, const ParamSlice& slice) {
  const std::string name = torch_name_of(slice.name);
  const auto params = model.named_parameters();
  const torch::Tensor* found = params.find(name);
  require(found != nullptr, "TorchVae has no parameter '" + name + "' for engine slice '" + slice.name + "'");
  const std::vector<int64_t> keras_shape(slice.shape.begin(), slice.shape.end());
  const std::vector<int64_t> expected = is_embedding(slice.name) ? keras_shape
                                                                 : std::vector<int64_t>(keras_shape.rbegin(), keras_shape.rend());
  require(found->sizes().vec() == expected, "TorchVae parameter '" + name + "' is " + shape_string(found->sizes()) +
                                          " but engine slice '" + slice.name + "' " + shape_string(keras_shape) +
                                          " maps to " + shape_string(expected));
  return *found;
}

void check_layout_covers_model(const torch::nn::Module& model, const ParamLayout& layout) {
  require(static_cast<size_t>(model.named_parameters().size()) == layout.slices().size(),
          "TorchVae has " + std::to_string(model.named_parameters().size()) + " parameters but the layout has " +
              std::to_string(layout.slices().size()) + " slices");
}

std::vector<float> flatten(const torch::nn::Module& model, const ParamLayout& layout, bool gradients) {
  check_layout_covers_model(model, layout);
  std::vector<float> flat(layout.total(), 0.0f);
  for (const ParamSlice& s : layout.slices()) {
    torch::Tensor p = find_parameter(model, s);
    torch::Tensor source = gradients ? p.grad() : p;
    if (!source.defined()) continue;  // no gradient reached this parameter: zeros
    torch::Tensor keras = torch_to_keras(source.detach(), s.name).to(torch::kFloat32).contiguous();
    std::copy(keras.data_ptr<float>(), keras.data_ptr<float>() + s.size, flat.begin() + s.offset);
  }
  return flat;
}

// Keras 'same' geometry of a layer whose long side has long_len steps.
StridedGeometry geometry(int64_t long_len, int kernel, int stride) {
  return same_padding(static_cast<int>(long_len), kernel, stride);
}

}  // namespace

StridedParamsImpl::StridedParamsImpl(std::vector<int64_t> weight_shape, int64_t bias_size) {
  weight = register_parameter("weight", torch::zeros(weight_shape));
  bias = register_parameter("bias", torch::zeros({bias_size}));
}

DenseParamsImpl::DenseParamsImpl(int64_t in_features, int64_t out_features) {
  weight = register_parameter("weight", torch::zeros({out_features, in_features}));
}

TorchVae::TorchVae(const VaeConfig& config) : config_(config) {
  const int64_t f = config.filters, z = config.latent;
  require(config.fourier_features == 6, "the seasonal prior uses 6 Fourier features");
  encoder_ = register_module("encoder", torch::nn::ModuleList());
  decoder_ = register_module("decoder", torch::nn::ModuleList());
  // Encoder: Conv1D(f,5,3) relu, 4 x Conv1D(f,3,2) relu, Conv1D(2z,3,2). Conv1d weight (out, in, K).
  encoder_->push_back(StridedParams(std::vector<int64_t>{f, 1, 5}, f));
  for (int i = 1; i <= 4; ++i) encoder_->push_back(StridedParams(std::vector<int64_t>{f, f, 3}, f));
  encoder_->push_back(StridedParams(std::vector<int64_t>{2 * z, f, 3}, 2 * z));
  encoder_kernel_ = {5, 3, 3, 3, 3, 3};
  encoder_stride_ = {3, 2, 2, 2, 2, 2};
  // Decoder: 5 x Conv1DTranspose(f,3,2) relu, Conv1DTranspose(1,5,3). ConvTranspose1d weight (in, out, K).
  decoder_->push_back(StridedParams(std::vector<int64_t>{config.decoder_inputs(), f, 3}, f));
  for (int i = 1; i <= 4; ++i) decoder_->push_back(StridedParams(std::vector<int64_t>{f, f, 3}, f));
  decoder_->push_back(StridedParams(std::vector<int64_t>{f, 1, 5}, 1));
  decoder_kernel_ = {3, 3, 3, 3, 3, 5};
  decoder_stride_ = {2, 2, 2, 2, 2, 3};
  prior_ = register_module("prior", DenseParams(config.prior_inputs(), 2 * z));
  noise_log_var_ = register_parameter("noise_log_var", torch::zeros({1}));
  if (config.prior == PriorKind::temporal) prior_ar_ = register_module("prior_ar", DenseParams(config.ar_inputs(), z));
  if (config.embedding > 0)
    cell_embedding_ = register_module("cell_embedding", torch::nn::Embedding(config.cells, config.embedding));
}

void TorchVae::load_keras_flat(const std::vector<float>& flat, const ParamLayout& layout) {
  require(flat.size() == layout.total(), "load_keras_flat: " + std::to_string(flat.size()) +
                                             " values for a layout of " + std::to_string(layout.total()));
  check_layout_covers_model(*this, layout);
  torch::NoGradGuard no_grad;
  for (const ParamSlice& s : layout.slices()) {
    torch::Tensor p = find_parameter(*this, s);
    std::vector<int64_t> shape(s.shape.begin(), s.shape.end());
    torch::Tensor keras = torch::from_blob(const_cast<float*>(flat.data() + s.offset), shape, torch::kFloat32);
    p.copy_(keras_to_torch(keras, s.name));
  }
}

std::vector<float> TorchVae::to_keras_flat(const ParamLayout& layout) const { return flatten(*this, layout, false); }

std::vector<float> TorchVae::gradients_to_keras_flat(const ParamLayout& layout) const {
  return flatten(*this, layout, true);
}

torch::Tensor TorchVae::prior(const torch::Tensor& season, const torch::Tensor& cells) {
  torch::Tensor f = season.to(noise_log_var_.dtype());  // (B, k, 6)
  if (config_.embedding > 0) {
    const torch::Tensor e = cell_embedding_->forward(cells.to(torch::kLong));  // (B, E)
    const torch::Tensor fe = f.unsqueeze(3) * e.unsqueeze(1).unsqueeze(2);     // (B, k, 6, E)
    f = torch::cat({f, fe.flatten(2)}, 2);                                     // (B, k, 6 (1 + E))
    if (config_.prior_bias) f = torch::cat({f, e.unsqueeze(1).expand({-1, f.size(1), -1})}, 2);  // + E
  }
  return torch::matmul(f, prior_->weight.t());
}

torch::Tensor TorchVae::autoregression(const torch::Tensor& season, const torch::Tensor& cells) {
  require(config_.prior == PriorKind::temporal, "autoregression: the model's prior is seasonal");
  const torch::Tensor f = season.to(noise_log_var_.dtype());              // (B, k, 6)
  torch::Tensor in = torch::cat({torch::ones_like(f.narrow(2, 0, 1)), f}, 2);  // (B, k, 1 + 6)
  if (config_.embedding > 0) {
    const torch::Tensor e = cell_embedding_->forward(cells.to(torch::kLong));  // (B, E)
    in = torch::cat({in, e.unsqueeze(1).expand({-1, f.size(1), -1})}, 2);     // + E
  }
  return torch::matmul(in, prior_ar_->weight.t());
}

torch::Tensor TorchVae::prior(const torch::Tensor& season) {
  return prior(season, torch::zeros({season.size(0)}, torch::kLong));
}

torch::Tensor TorchVae::decode(const torch::Tensor& z) {
  return decode(z, torch::zeros({z.size(0)}, torch::kLong));
}

torch::Tensor TorchVae::decode(const torch::Tensor& z, const torch::Tensor& cells) {
  require(z.dim() == 3 && z.size(2) == config_.latent, "decode: z must be (batch, k, latent)");
  torch::Tensor in = z.to(noise_log_var_.dtype());  // (B, k, latent)
  if (config_.decoder_inputs() > config_.latent) {
    const torch::Tensor e = cell_embedding_->forward(cells.to(torch::kLong));  // (B, E)
    in = torch::cat({in, e.unsqueeze(1).expand({z.size(0), z.size(1), config_.embedding})}, 2);
  }
  torch::Tensor h = in.transpose(1, 2);  // (B, latent [+ E], k)
  for (size_t i = 0; i < decoder_->size(); ++i) {
    const auto& layer = decoder_->ptr<StridedParamsImpl>(i);
    const int64_t n = h.size(2), out_len = n * decoder_stride_[i];
    const StridedGeometry g = geometry(out_len, decoder_kernel_[i], decoder_stride_[i]);
    h = torch::conv_transpose1d(h, layer->weight, layer->bias, decoder_stride_[i]);  // (n-1)s + K
    h = h.narrow(2, g.pad_left, out_len);
    if (i + 1 < decoder_->size()) h = torch::relu(h);
  }
  return h.squeeze(1);  // (B, 96k)
}

TorchVaeOutputs TorchVae::forward(const torch::Tensor& x, const torch::Tensor& season, const torch::Tensor& eps) {
  return forward(x, season, torch::zeros({x.size(0)}, torch::kLong), eps);
}

TorchVaeOutputs TorchVae::forward(const torch::Tensor& x, const torch::Tensor& season, const torch::Tensor& cells,
                                  const torch::Tensor& eps) {
  const auto dtype = noise_log_var_.dtype();
  require(x.dim() == 2 && x.size(1) > 0 && x.size(1) % Vae::kHoursPerStep == 0, "forward: x must be (batch, 96k)");
  const int64_t batch = x.size(0), hours = x.size(1), steps = hours / Vae::kHoursPerStep, nz = config_.latent;
  require(season.sizes().vec() == std::vector<int64_t>{batch, steps, config_.fourier_features},
          "forward: season must be (batch, k, 6)");
  require(eps.sizes().vec() == std::vector<int64_t>{batch, steps, nz}, "forward: eps must be (batch, k, latent)");

  TorchVaeOutputs out;
  const torch::Tensor xs = x.to(dtype);
  torch::Tensor h = xs.unsqueeze(1);  // (B, 1, L)
  for (size_t i = 0; i < encoder_->size(); ++i) {
    const auto& layer = encoder_->ptr<StridedParamsImpl>(i);
    const StridedGeometry g = geometry(h.size(2), encoder_kernel_[i], encoder_stride_[i]);
    const int64_t pad_total = std::max<int64_t>((g.short_len - 1) * g.stride + g.kernel - g.long_len, 0);
    h = torch::constant_pad_nd(h, {g.pad_left, pad_total - g.pad_left}, 0);
    h = torch::conv1d(h, layer->weight, layer->bias, encoder_stride_[i]);
    if (i + 1 < encoder_->size()) h = torch::relu(h);
  }
  const torch::Tensor encoded = h.transpose(1, 2);  // (B, k, 2z)
  out.z_mean = encoded.narrow(2, 0, nz);
  out.z_log_var = encoded.narrow(2, nz, nz);
  out.z = out.z_mean + torch::exp(0.5 * out.z_log_var) * eps.to(dtype);
  out.x_hat = decode(out.z, cells);
  const torch::Tensor p = prior(season, cells);
  out.prior_mean = p.narrow(2, 0, nz);
  out.prior_log_var = p.narrow(2, nz, nz);
  out.cond_mean = out.prior_mean;
  out.cond_log_var = out.prior_log_var;
  if (config_.prior == PriorKind::temporal && steps > 1) {
    // Step t >= 1 given the sampled step t - 1: N(m_t + s_t ρ_t u_{t-1}, s_t² (1 - ρ_t²)).
    const torch::Tensor rho = torch::tanh(autoregression(season, cells)).narrow(1, 1, steps - 1);
    const torch::Tensor u = (out.z - out.prior_mean) * torch::exp(-0.5 * out.prior_log_var);
    const torch::Tensor m = out.prior_mean.narrow(1, 1, steps - 1), lv = out.prior_log_var.narrow(1, 1, steps - 1);
    out.cond_mean = torch::cat({out.prior_mean.narrow(1, 0, 1), m + torch::exp(0.5 * lv) * rho * u.narrow(1, 0, steps - 1)}, 1);
    out.cond_log_var = torch::cat({out.prior_log_var.narrow(1, 0, 1), lv + torch::log1p(-rho.square())}, 1);
  }

  const double inv_bl = 1.0 / (static_cast<double>(batch) * hours);
  const torch::Tensor nlv = noise_log_var_;
  out.reconstruction_loss =
      0.5 * ((kLog2Pi + nlv) * static_cast<double>(batch * hours) + (xs - out.x_hat).square().sum() * torch::exp(-nlv));
  out.reconstruction_loss = (out.reconstruction_loss * inv_bl).squeeze();
  const torch::Tensor diff = out.z_mean - out.cond_mean;
  out.kl_loss = 0.5 * (out.cond_log_var - out.z_log_var +
                       (torch::exp(out.z_log_var) + diff.square()) * torch::exp(-out.cond_log_var) - 1.0);
  out.kl_loss = out.kl_loss.sum() * inv_bl;
  out.total_loss = out.reconstruction_loss + out.kl_loss;
  return out;
}

void save_state_dict(const TorchVae& model, const std::string& path) {
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& item : model.named_parameters())
    state.insert(item.key(), item.value().detach().to(torch::kFloat32).contiguous().clone());
  const std::vector<char> bytes = torch::pickle_save(torch::IValue(state));
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out.good()) throw Error("cannot create '" + tmp + "': " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out.good()) {
      std::remove(tmp.c_str());
      throw Error("cannot write the state dict to '" + tmp + "' (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error("cannot rename '" + tmp + "' to '" + path + "'");
  }
}

void load_state_dict(TorchVae& model, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open state dict '" + path + "'");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  torch::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw Error("'" + path + "' is not a PyTorch state dict: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error("'" + path + "' is not a PyTorch state dict: " + e.what());
  }
  require(value.isGenericDict(), "'" + path + "' does not hold a dict of tensors");
  const c10::impl::GenericDict dict = value.toGenericDict();
  torch::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const auto it = dict.find(torch::IValue(item.key()));
    require(it != dict.end(), "'" + path + "' has no tensor '" + item.key() + "'");
    require(it->value().isTensor(), "'" + path + "': '" + item.key() + "' is not a tensor");
    const at::Tensor t = it->value().toTensor();
    require(t.sizes().vec() == item.value().sizes().vec(), "'" + path + "': '" + item.key() + "' is " + shape_string(t.sizes()) +
                                                   ", expected " + shape_string(item.value().sizes()));
    item.value().copy_(t);
  }
  require(dict.size() == model.named_parameters().size(),
          "'" + path + "' has " + std::to_string(dict.size()) + " entries, the model " +
              std::to_string(model.named_parameters().size()) + " parameters");
}

}  // namespace climvae::reference
