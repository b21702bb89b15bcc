// The Kokkos VAE against its LibTorch twin: forward outputs, both loss parts and every
// parameter gradient against autograd (float32, with float64 as the tiebreaker), central finite
// differences of the engine itself, and Adam steps against torch::optim::Adam.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "engine/adam.hpp"
#include "model/seasonal.hpp"
#include "model/vae.hpp"
#include "reference/torch_vae.hpp"

namespace climvae {
namespace {

constexpr int kBatch = 3;
constexpr double kTiny = 1e-30;

struct Batch {
  int batch = 0, steps = 0;
  std::vector<float> x, season, eps;  // (B, 96k), (B, k, 6), (B, k, latent)
  std::vector<int> cells;             // (B) embedding rows; empty: every window is cell 0
};

Batch random_batch(int batch, int steps, int latent, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int64_t> start_hour(0, 50LL * 8760);
  Batch b;
  b.batch = batch;
  b.steps = steps;
  b.x.resize(static_cast<size_t>(batch) * steps * Vae::kHoursPerStep);
  b.eps.resize(static_cast<size_t>(batch) * steps * latent);
  b.season.resize(static_cast<size_t>(batch) * steps * kSeasonalFeatures);
  for (float& v : b.x) v = normal(rng);
  for (float& v : b.eps) v = normal(rng);
  for (int i = 0; i < batch; ++i)
    seasonal_features(start_hour(rng), steps, b.season.data() + static_cast<size_t>(i) * steps * kSeasonalFeatures);
  return b;
}

template <class View, class T = float>
void fill(const View& view, const std::vector<T>& values) {
  auto host = Kokkos::create_mirror_view(view);
  ASSERT_EQ(host.size(), values.size());
  std::copy(values.begin(), values.end(), host.data());
  Kokkos::deep_copy(view, host);
}

template <class View>
std::vector<float> to_host(const View& view) {
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), view);
  return std::vector<float>(host.data(), host.data() + host.size());
}

// Glorot kernels plus N(0, 0.05) on every parameter, so that no bias, prior weight or the
// noise log-variance is zero.
void randomize(Vae& vae, uint32_t seed) {
  vae.initialize(seed);
  std::vector<float> p = to_host(vae.params().values);
  std::mt19937 rng(seed + 1);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  for (float& v : p) v += normal(rng);
  fill(vae.params().values, p);
}

// Runs the engine on a batch; returns the loss parts.
LossParts run_engine(Vae& vae, const Batch& b, bool gradients = true) {
  const int latent = vae.config().latent;
  View2 x("x", b.batch, b.steps * Vae::kHoursPerStep);
  View3 season("season", b.batch, b.steps, kSeasonalFeatures);
  View3 eps("eps", b.batch, b.steps, latent);
  fill(x, b.x);
  fill(season, b.season);
  fill(eps, b.eps);
  if (b.cells.empty()) return vae.forward_backward(x, season, eps, gradients);
  CellIndices cells("cells", b.batch);
  auto host = Kokkos::create_mirror_view(cells);
  std::copy(b.cells.begin(), b.cells.end(), host.data());
  Kokkos::deep_copy(cells, host);
  return vae.forward_backward(x, season, cells, eps, gradients);
}

torch::Tensor tensor_of(const std::vector<float>& v, std::vector<int64_t> shape) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}

reference::TorchVaeOutputs run_torch(reference::TorchVae& model, const Batch& b) {
  const int64_t latent = model.config().latent;
  const torch::Tensor x = tensor_of(b.x, {b.batch, b.steps * int64_t(Vae::kHoursPerStep)});
  const torch::Tensor season = tensor_of(b.season, {b.batch, b.steps, kSeasonalFeatures});
  const torch::Tensor eps = tensor_of(b.eps, {b.batch, b.steps, latent});
  if (b.cells.empty()) return model.forward(x, season, eps);
  return model.forward(x, season, torch::tensor(std::vector<int64_t>(b.cells.begin(), b.cells.end())), eps);
}

std::vector<float> flat(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// max |a - b| / max(max |b|, tiny) over [offset, offset + size).
double relative_error(const std::vector<float>& a, const std::vector<float>& b, size_t offset = 0,
                      size_t size = size_t(-1)) {
  if (size == size_t(-1)) size = b.size();
  double diff = 0, scale = 0;
  for (size_t i = offset; i < offset + size; ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return diff / std::max(scale, kTiny);
}

double relative_error(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), kTiny); }

// Forward outputs, loss parts and every parameter gradient of one batch against autograd.
void compare_with_autograd(const VaeConfig& config, int steps, const std::vector<int>& cells) {
  const double tolerance = 1e-4;
  Vae vae(config);
  randomize(vae, 1000 + steps);
  Batch b = random_batch(kBatch, steps, vae.config().latent, 2000 + steps);
  b.cells = cells;
  const ParamLayout& layout = vae.params().layout;
  const std::vector<float> params = to_host(vae.params().values);

  const LossParts engine = run_engine(vae, b);
  const std::vector<float> engine_grads = to_host(vae.params().grads);

  reference::TorchVae model32(vae.config());
  model32.load_keras_flat(params, layout);
  const auto out32 = run_torch(model32, b);
  out32.total_loss.backward();
  const std::vector<float> grads32 = model32.gradients_to_keras_flat(layout);

  // float64 twin: the tiebreaker that says which float32 side is off when they disagree.
  reference::TorchVae model64(vae.config());
  model64.load_keras_flat(params, layout);
  model64.to(torch::kFloat64);
  const auto out64 = run_torch(model64, b);
  out64.total_loss.backward();
  const std::vector<float> grads64 = model64.gradients_to_keras_flat(layout);

  // Forward outputs.
  struct Compared {
    std::string name;
    std::vector<float> engine, torch32, torch64;
  };
  const std::vector<Compared> outputs = {
      {"encoder output", to_host(vae.encoder_output()), flat(torch::cat({out32.z_mean, out32.z_log_var}, 2)),
       flat(torch::cat({out64.z_mean, out64.z_log_var}, 2))},
      {"z", to_host(vae.latent_sample()), flat(out32.z), flat(out64.z)},
      {"x_hat", to_host(vae.reconstruction()), flat(out32.x_hat), flat(out64.x_hat)},
      {"prior output", to_host(vae.prior_output()), flat(torch::cat({out32.prior_mean, out32.prior_log_var}, 2)),
       flat(torch::cat({out64.prior_mean, out64.prior_log_var}, 2))},
      {"prior given the previous step", to_host(vae.prior_conditional()),
       flat(torch::cat({out32.cond_mean, out32.cond_log_var}, 2)), flat(torch::cat({out64.cond_mean, out64.cond_log_var}, 2))},
  };
  for (const auto& o : outputs) {
    ASSERT_EQ(o.engine.size(), o.torch32.size()) << o.name;
    const double err = relative_error(o.engine, o.torch32);
    EXPECT_LT(err, tolerance) << o.name << " (engine vs float64: " << relative_error(o.engine, o.torch64) << ")";
  }

  // Loss parts.
  const double recon32 = out32.reconstruction_loss.item<double>(), kl32 = out32.kl_loss.item<double>();
  const double recon64 = out64.reconstruction_loss.item<double>(), kl64 = out64.kl_loss.item<double>();
  EXPECT_LT(relative_error(engine.reconstruction, recon32), tolerance)
      << engine.reconstruction << " vs " << recon32 << " (float64 " << recon64 << ")";
  EXPECT_LT(relative_error(engine.kl, kl32), tolerance) << engine.kl << " vs " << kl32 << " (float64 " << kl64 << ")";

  // Every parameter slice's gradient.
  std::string worst_name;
  double worst = -1;
  for (const ParamSlice& s : layout.slices()) {
    const double err = relative_error(engine_grads, grads32, s.offset, s.size);
    const double err_engine64 = relative_error(engine_grads, grads64, s.offset, s.size);
    const double err_torch64 = relative_error(grads32, grads64, s.offset, s.size);
    EXPECT_LT(err, tolerance) << s.name << ": engine vs torch float32 " << err << ", engine vs float64 "
                              << err_engine64 << ", torch float32 vs float64 " << err_torch64;
    if (err > worst) {
      worst = err;
      char detail[128];
      std::snprintf(detail, sizeof(detail), " (engine vs float64 %.2g, torch float32 vs float64 %.2g)", err_engine64,
                    err_torch64);
      worst_name = s.name + detail;
    }
  }
  std::printf("k=%d, embedding %d: loss %.6f + %.6f; worst gradient slice %s: relative error %.3g\n", steps,
              config.embedding, engine.reconstruction, engine.kl, worst_name.c_str(), worst);
}

class VaeGradients : public ::testing::TestWithParam<int> {};

TEST_P(VaeGradients, ForwardLossesAndEveryGradientMatchAutograd) { compare_with_autograd(VaeConfig(), GetParam(), {}); }

INSTANTIATE_TEST_SUITE_P(Steps, VaeGradients, ::testing::Values(1, 2, 5, 16));

// Many cells, one network: three cells with 4 embedding values each, conditioning the prior
// and the decoder (decoder.0 then has latent + 4 input channels); the batch uses cell 2 twice
// and cell 1 never, so the test sees a row's gradient (from prior and decoder) summed over its
// windows and an unused row's gradient at zero.
class ConditionedVaeGradients : public ::testing::TestWithParam<int> {};

TEST_P(ConditionedVaeGradients, PriorDecoderAndCellEmbeddingGradientsMatchAutograd) {
  VaeConfig config;
  config.cells = 3;
  config.embedding = 4;
  ASSERT_TRUE(config.condition_decoder);
  ASSERT_TRUE(config.prior_bias);
  compare_with_autograd(config, GetParam(), {2, 0, 2});
}

INSTANTIATE_TEST_SUITE_P(Steps, ConditionedVaeGradients, ::testing::Values(1, 5));

// Model files of format version 2: the embedding conditions the prior only, with no offset.
TEST(ConditionedVaeGradients, PriorOnlyConditioningMatchesAutograd) {
  VaeConfig config;
  config.cells = 3;
  config.embedding = 4;
  config.condition_decoder = false;
  config.prior_bias = false;
  compare_with_autograd(config, 2, {2, 0, 2});
}

// The temporal prior: each step's KL is taken against the prior given the previous step's
// sample, so gradients reach the autoregression's kernel, the prior's kernel through two steps,
// and the encoder through z_{t-1}. One window of one step has no pair of steps (only the marginal).
class TemporalVaeGradients : public ::testing::TestWithParam<int> {};

TEST_P(TemporalVaeGradients, AutoregressionAndEveryGradientMatchAutograd) {
  VaeConfig config;
  config.prior = PriorKind::temporal;
  compare_with_autograd(config, GetParam(), {});
}

INSTANTIATE_TEST_SUITE_P(Steps, TemporalVaeGradients, ::testing::Values(1, 2, 5, 16));

TEST(TemporalVaeGradients, WithCellEmbeddingMatchesAutograd) {
  VaeConfig config;
  config.prior = PriorKind::temporal;
  config.cells = 3;
  config.embedding = 4;
  compare_with_autograd(config, 5, {2, 0, 2});
}

// A zero autoregression (a fresh model's) is exactly the seasonal prior: the same loss, bit for bit.
TEST(TemporalVae, ZeroAutoregressionIsTheSeasonalPrior) {
  VaeConfig temporal;
  temporal.prior = PriorKind::temporal;
  Vae seasonal_vae, temporal_vae(temporal);
  seasonal_vae.initialize(5);
  temporal_vae.initialize(5);
  const ParamSlice& ar = temporal_vae.params().layout.find("prior_ar.kernel");
  std::vector<float> p = to_host(temporal_vae.params().values);
  ASSERT_TRUE(std::all_of(p.begin() + ar.offset, p.begin() + ar.offset + ar.size, [](float v) { return v == 0.0f; }));
  const Batch b = random_batch(kBatch, 4, seasonal_vae.config().latent, 6);
  const LossParts a = run_engine(seasonal_vae, b, false), c = run_engine(temporal_vae, b, false);
  EXPECT_EQ(a.reconstruction, c.reconstruction);
  EXPECT_EQ(a.kl, c.kl);
}

// Generation's decode(z, cells) against the twin's, and the cell changes the decoded trace.
TEST(ConditionedVae, DecodeWithCellsMatchesTwin) {
  VaeConfig config;
  config.cells = 3;
  config.embedding = 4;
  Vae vae(config);
  randomize(vae, 41);
  const int steps = 3;
  Batch b = random_batch(kBatch, steps, config.latent, 42);
  View3 z("z", kBatch, steps, config.latent);
  fill(z, b.eps);
  CellIndices cells("cells", kBatch);
  fill(cells, std::vector<int>{1, 2, 1});
  View3 out("out", kBatch, steps * Vae::kHoursPerStep, 1);
  vae.decode(z, cells, out);
  const std::vector<float> engine = to_host(out);
  reference::TorchVae twin(config);
  twin.load_keras_flat(to_host(vae.params().values), vae.params().layout);
  const torch::Tensor zt = torch::from_blob(b.eps.data(), {kBatch, steps, config.latent}, torch::kFloat32);
  const std::vector<float> reference = flat(twin.decode(zt, torch::tensor(std::vector<int64_t>{1, 2, 1})));
  ASSERT_EQ(engine.size(), reference.size());
  EXPECT_LT(relative_error(engine, reference), 1e-4);
  // Same z, other cell: another trace.
  fill(cells, std::vector<int>{2, 2, 1});
  vae.decode(z, cells, out);
  const std::vector<float> other = to_host(out);
  const size_t per_window = other.size() / kBatch;
  double moved = 0;
  for (size_t i = 0; i < per_window; ++i) moved = std::max(moved, double(std::abs(other[i] - engine[i])));
  EXPECT_GT(moved, 1e-4);
  for (size_t i = per_window; i < other.size(); ++i) ASSERT_EQ(other[i], engine[i]);
}

TEST(ConditionedVae, UnusedCellGetsZeroGradientAndCellsGetDifferentPriors) {
  VaeConfig config;
  config.cells = 3;
  config.embedding = 4;
  Vae vae(config);
  randomize(vae, 31);
  Batch b = random_batch(kBatch, 2, config.latent, 32);
  b.season.assign(b.season.size(), 0.5f);  // same day for every window: only the cell differs
  b.cells = {2, 0, 2};
  run_engine(vae, b);
  const ParamSlice& e = vae.params().layout.find("cell_embedding.embeddings");
  const std::vector<float> grads = to_host(vae.params().grads);
  for (int j = 0; j < config.embedding; ++j) {
    EXPECT_EQ(grads[e.offset + 1 * config.embedding + j], 0.0f) << "cell 1 is not in the batch";
    EXPECT_NE(grads[e.offset + 2 * config.embedding + j], 0.0f);
  }
  const std::vector<float> prior = to_host(vae.prior_output());  // (B, k, 2z)
  const size_t per_window = prior.size() / kBatch;
  EXPECT_NE(prior[0], prior[per_window]);                 // cell 2 vs cell 0
  EXPECT_EQ(prior[0], prior[2 * per_window]);             // cell 2 vs cell 2
}

// Central differences of the engine's own loss on the largest-gradient entry of slices from
// every part of the network, with h = 1e-3 (float32 round-off of the loss stays ~1e-4 of the
// gradients checked). Parameters that move no ReLU input (decoder.5, prior, noise_log_var)
// must agree to 0.5%. For the others the loss is piecewise smooth with dense ReLU kinks: a
// float64 twin showed central differences converge to the analytic gradient only for h below
// ~1e-5, which float32 cannot resolve, and differ by 2-3% at h = 1e-4..1e-2. Their 10%
// tolerance still catches a wrong sign or a factor of 2; the exact check is against autograd.
TEST(VaeFiniteDifferences, EngineGradientMatchesCentralDifferences) {
  Vae vae;
  randomize(vae, 77);
  const Batch b = random_batch(kBatch, 2, vae.config().latent, 78);
  run_engine(vae, b);
  const std::vector<float> grads = to_host(vae.params().grads);
  const std::vector<float> params = to_host(vae.params().values);
  const double h = 1e-3;
  struct Checked {
    const char* name;
    double tolerance;
  };
  for (const Checked c : {Checked{"encoder.0.kernel", 0.1}, {"encoder.2.bias", 0.1}, {"encoder.5.kernel", 0.1},
                          {"encoder.5.bias", 0.1}, {"decoder.0.kernel", 0.1}, {"decoder.3.bias", 0.1},
                          {"decoder.5.kernel", 0.005}, {"decoder.5.bias", 0.005}, {"prior.kernel", 0.005},
                          {"noise_log_var", 0.005}}) {
    const ParamSlice& s = vae.params().layout.find(c.name);
    size_t best = s.offset;
    for (size_t i = s.offset; i < s.offset + s.size; ++i)
      if (std::abs(grads[i]) > std::abs(grads[best])) best = i;
    auto loss_at = [&](float value) {
      std::vector<float> p = params;
      p[best] = value;
      fill(vae.params().values, p);
      return run_engine(vae, b, false).total();
    };
    // The step actually taken in float32 (value +- h is rounded).
    const float plus = static_cast<float>(params[best] + h), minus = static_cast<float>(params[best] - h);
    const double fd = (loss_at(plus) - loss_at(minus)) / (double(plus) - double(minus));
    const double g = grads[best];
    std::printf("finite differences %-18s[%zu]: engine %+.6e, central %+.6e\n", c.name, best - s.offset, g, fd);
    EXPECT_GT(std::abs(g), 1e-3) << c.name << ": gradient too small for a meaningful check";
    EXPECT_NEAR(fd, g, c.tolerance * std::abs(g)) << c.name << "[" << best - s.offset << "]";
  }
  fill(vae.params().values, params);
}

// Keras' Adam: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), p -= lr_t m / (sqrt(v) + eps). That is
// torch's Adam with eps_torch = eps / sqrt(1 - b2^t), set before each step.
void set_keras_epsilon(torch::optim::Adam& optimizer, const AdamConfig& config, int64_t step) {
  auto& options = static_cast<torch::optim::AdamOptions&>(optimizer.param_groups()[0].options());
  options.eps(config.epsilon / std::sqrt(1 - std::pow(config.beta2, double(step))));
}

torch::optim::Adam torch_adam(reference::TorchVae& model, const AdamConfig& config) {
  return torch::optim::Adam(model.parameters(), torch::optim::AdamOptions(config.learning_rate)
                                                    .betas({config.beta1, config.beta2})
                                                    .eps(config.epsilon)
                                                    .weight_decay(0));
}

TEST(VaeAdam, OneStepMatchesKerasArithmeticAndTorchAdam) {
  Vae vae;
  randomize(vae, 5);
  const Batch b = random_batch(kBatch, 2, vae.config().latent, 6);
  run_engine(vae, b);
  const ParamLayout& layout = vae.params().layout;
  const std::vector<float> p0 = to_host(vae.params().values);
  const std::vector<float> g = to_host(vae.params().grads);

  const AdamConfig config;
  Adam adam(layout.total(), config);
  adam.step(vae.params().values, vae.params().grads);
  const std::vector<float> p1 = to_host(vae.params().values);

  // By hand, in double: step 1 from zero moments.
  std::vector<float> expected(p0.size());
  const double lr_t = config.learning_rate * std::sqrt(1 - config.beta2) / (1 - config.beta1);
  for (size_t i = 0; i < p0.size(); ++i) {
    const double m = (1 - config.beta1) * g[i], v = (1 - config.beta2) * double(g[i]) * g[i];
    expected[i] = static_cast<float>(p0[i] - lr_t * m / (std::sqrt(v) + config.epsilon));
  }
  // The update is at most ~lr; compare it at float32 resolution of the parameters.
  std::vector<float> step_engine(p0.size()), step_expected(p0.size());
  for (size_t i = 0; i < p0.size(); ++i) {
    step_engine[i] = p1[i] - p0[i];
    step_expected[i] = expected[i] - p0[i];
  }
  EXPECT_LT(relative_error(step_engine, step_expected), 1e-3);

  // torch::optim::Adam on the same gradients.
  reference::TorchVae model;
  model.load_keras_flat(p0, layout);
  auto optimizer = torch_adam(model, config);
  const auto params = model.named_parameters();
  for (const ParamSlice& s : layout.slices()) {
    std::string name = s.name;
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".kernel") == 0) name = name.substr(0, name.size() - 7) + ".weight";
    torch::Tensor p = params[name];
    const std::vector<int64_t> keras_shape(s.shape.begin(), s.shape.end());
    std::vector<int64_t> order(keras_shape.size());
    for (size_t d = 0; d < order.size(); ++d) order[d] = int64_t(order.size() - 1 - d);
    p.mutable_grad() = tensor_of(std::vector<float>(g.begin() + s.offset, g.begin() + s.offset + s.size), keras_shape)
                           .permute(order)
                           .contiguous();
  }
  set_keras_epsilon(optimizer, config, 1);
  optimizer.step();
  const std::vector<float> torch_p1 = model.to_keras_flat(layout);
  std::vector<float> step_torch(p0.size());
  for (size_t i = 0; i < p0.size(); ++i) step_torch[i] = torch_p1[i] - p0[i];
  EXPECT_LT(relative_error(step_engine, step_torch), 1e-3);
}

TEST(VaeAdam, TrainingStepsDecreaseTheLossIdentically) {
  Vae vae;
  randomize(vae, 11);
  const ParamLayout& layout = vae.params().layout;
  const AdamConfig config;
  Adam adam(layout.total(), config);
  reference::TorchVae model;
  model.load_keras_flat(to_host(vae.params().values), layout);
  auto optimizer = torch_adam(model, config);

  const Batch b = random_batch(kBatch, 4, vae.config().latent, 12);
  std::vector<double> engine_losses, torch_losses;
  for (int step = 1; step <= 8; ++step) {
    engine_losses.push_back(run_engine(vae, b).total());
    adam.step(vae.params().values, vae.params().grads);

    optimizer.zero_grad();
    const auto out = run_torch(model, b);
    out.total_loss.backward();
    torch_losses.push_back(out.total_loss.item<double>());
    set_keras_epsilon(optimizer, config, step);
    optimizer.step();
  }
  for (size_t i = 0; i < engine_losses.size(); ++i) {
    std::printf("step %zu: engine %.7f torch %.7f\n", i + 1, engine_losses[i], torch_losses[i]);
    EXPECT_LT(relative_error(engine_losses[i], torch_losses[i]), 1e-4) << "step " << i + 1;
  }
  EXPECT_LT(engine_losses.back(), engine_losses.front() - 1e-3);
  // After 8 steps of at most ~lr each, the parameters agree to a small fraction of a step.
  const std::vector<float> pe = to_host(vae.params().values), pt = model.to_keras_flat(layout);
  double max_diff = 0;
  for (size_t i = 0; i < pe.size(); ++i) max_diff = std::max(max_diff, std::abs(double(pe[i]) - pt[i]));
  std::printf("after 8 steps: max |parameter difference| %.3g (learning rate %.0e)\n", max_diff,
              config.learning_rate);
  EXPECT_LT(max_diff, 0.1 * config.learning_rate);
}

}  // namespace
}  // namespace climvae
