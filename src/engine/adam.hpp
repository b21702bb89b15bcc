// Adam over the whole parameter buffer (Keras defaults: beta1 0.9, beta2 0.999, epsilon 1e-7).
#pragma once
#include <cstdint>

#include "engine/types.hpp"

namespace climvae {

struct AdamConfig {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-7;
};

class Adam {
 public:
  Adam(size_t num_params, const AdamConfig& config = AdamConfig());
  // params -= lr * m_hat / (sqrt(v_hat) + eps), bias-corrected as Keras does.
  void step(const View1& params, const View1& grads);

  const AdamConfig& config() const { return config_; }
  int64_t steps_taken() const { return step_; }
  // State for checkpoints: first and second moments and the step count.
  View1 first_moment() const { return m_; }
  View1 second_moment() const { return v_; }
  void set_steps_taken(int64_t step) { step_ = step; }

 private:
  AdamConfig config_;
  View1 m_, v_;
  int64_t step_ = 0;
};

}  // namespace climvae
