#include "model/prior.hpp"

#include "common/error.hpp"
#include "engine/kokkos_compat.hpp"
#include "model/vae.hpp"

namespace climvae {

namespace {

// log(1 − tanh²(a)) without cancellation: 2 (log 2 − |a| − log1p(e^{−2|a|})).
KOKKOS_INLINE_FUNCTION Real log_one_minus_tanh2(Real a) {
  const Real m = kx::fabs(a);
  return Real(2) * (Real(0.69314718055994531) - m - kx::log1p(kx::exp(Real(-2) * m)));
}

}  // namespace

std::string prior_name(PriorKind kind) { return kind == PriorKind::temporal ? "temporal" : "seasonal"; }

PriorKind parse_prior_kind(const std::string& s) {
  if (s == "seasonal") return PriorKind::seasonal;
  if (s == "temporal") return PriorKind::temporal;
  throw Error("unknown prior '" + s + "': choose 'temporal' (latent steps remember the previous one) or "
              "'seasonal' (the seed's independent steps)");
}

void prior_forward(const VaeConfig& config, const PriorSlices& slices, const View1& params, const View3& season,
                   const CellIndices& cells, const View3& seasonal, const View3& ar_pre) {
  // seasonal[r, c] = sum_f s[r, f] (W[f, c] + sum_e emb[cell, e] W[F + f E + e, c])
  //                  + sum_e emb[cell, e] W[F (1 + E) + e, c]   (prior_bias)
  // ar_pre[r, c]   = A[0, c] + sum_f s[r, f] A[1 + f, c] + sum_e emb[cell, e] A[1 + F + e, c]
  const int steps = static_cast<int>(season.extent(1));
  const int rows = static_cast<int>(season.extent(0)) * steps;
  const int nf = config.fourier_features, nz = config.latent, nc = 2 * nz, ne = config.embedding;
  const int bias_row = nf * (1 + ne), nb = config.prior_bias ? ne : 0;
  const Real* s = season.data();
  const Real* w = params.data() + slices.kernel.offset;
  const Real* emb = params.data() + slices.embedding.offset;
  const int* cell = cells.data();
  const bool per_cell = cells.extent(0) > 0;
  Real* o = seasonal.data();
  // One work item per row, its outputs side by side (contiguous loads and stores, vectorised over
  // c); each output's sums in the order of the formula above.
  Kokkos::parallel_for(
      "climvae::prior::seasonal", RangePolicy(0, rows), KOKKOS_LAMBDA(const int r) {
        const Real* e = emb + (per_cell ? cell[r / steps] : 0) * ne;
        Real acc[kMaxChannels], wf[kMaxChannels];
        for (int c = 0; c < nc; ++c) acc[c] = 0;
        for (int f = 0; f < nf; ++f) {
          for (int c = 0; c < nc; ++c) wf[c] = w[f * nc + c];
          for (int j = 0; j < ne; ++j)
            for (int c = 0; c < nc; ++c) wf[c] += e[j] * w[(nf + f * ne + j) * nc + c];
          const Real sf = s[r * nf + f];
          for (int c = 0; c < nc; ++c) acc[c] += sf * wf[c];
        }
        for (int j = 0; j < nb; ++j)
          for (int c = 0; c < nc; ++c) acc[c] += e[j] * w[(bias_row + j) * nc + c];
        for (int c = 0; c < nc; ++c) o[r * nc + c] = acc[c];
      });
  if (config.prior != PriorKind::temporal) return;
  require(ar_pre.extent(0) == season.extent(0) && static_cast<int>(ar_pre.extent(1)) == steps &&
              static_cast<int>(ar_pre.extent(2)) == nz,
          "prior: the autoregression output must be (batch, k, latent)");
  const Real* a = params.data() + slices.ar_kernel.offset;
  Real* pre = ar_pre.data();
  Kokkos::parallel_for(
      "climvae::prior::autoregression", RangePolicy(0, rows), KOKKOS_LAMBDA(const int r) {
        const Real* e = emb + (per_cell ? cell[r / steps] : 0) * ne;
        Real acc[kMaxChannels];
        for (int c = 0; c < nz; ++c) acc[c] = a[c];
        for (int f = 0; f < nf; ++f)
          for (int c = 0; c < nz; ++c) acc[c] += s[r * nf + f] * a[(1 + f) * nz + c];
        for (int j = 0; j < ne; ++j)
          for (int c = 0; c < nz; ++c) acc[c] += e[j] * a[(1 + nf + j) * nz + c];
        for (int c = 0; c < nz; ++c) pre[r * nz + c] = acc[c];
      });
}

void prior_conditional_forward(const View3& seasonal, const View3& ar_pre, const View3& z, const View3& cond) {
  const int steps = static_cast<int>(z.extent(1)), nz = static_cast<int>(z.extent(2));
  const int n = static_cast<int>(z.extent(0)) * steps * nz;
  const Real* p = seasonal.data();
  const Real* pre = ar_pre.data();
  const Real* zz = z.data();
  Real* o = cond.data();
  Kokkos::parallel_for(
      "climvae::prior::conditional", RangePolicy(0, n), KOKKOS_LAMBDA(const int i) {
        const int r = i / nz, f = i % nz, t = r % steps;
        const int im = r * 2 * nz + f, iv = im + nz;
        if (t == 0) {
          o[im] = p[im];
          o[iv] = p[iv];
          return;
        }
        const int pm = im - 2 * nz, pv = iv - 2 * nz;  // the previous step's marginal
        const Real u_prev = (zz[i - nz] - p[pm]) * kx::exp(Real(-0.5) * p[pv]);
        o[im] = p[im] + kx::exp(Real(0.5) * p[iv]) * kx::tanh(pre[i]) * u_prev;
        o[iv] = p[iv] + log_one_minus_tanh2(pre[i]);
      });
}

void prior_conditional_backward(const View3& seasonal, const View3& ar_pre, const View3& z, const View3& grad_cond,
                                const View3& grad_seasonal, const View3& grad_ar_pre, const View3& grad_z) {
  // With d_{t+1} = gm_{t+1} s_{t+1} ρ_{t+1} (the gradient reaching u_t through step t+1's mean):
  //   d m_t     = gm_t − d_{t+1} / s_t
  //   d log s²_t = gv_t + ½ gm_t s_t ρ_t u_{t−1} − ½ d_{t+1} u_t
  //   d a_t     = gm_t s_t u_{t−1} (1 − ρ_t²) − 2 ρ_t gv_t          (t >= 1; 0 at t = 0)
  //   d z_t     = d_{t+1} / s_t
  // Each thread gathers its own step's terms: no atomics.
  const int steps = static_cast<int>(z.extent(1)), nz = static_cast<int>(z.extent(2));
  const int n = static_cast<int>(z.extent(0)) * steps * nz;
  const Real* p = seasonal.data();
  const Real* pre = ar_pre.data();
  const Real* zz = z.data();
  const Real* g = grad_cond.data();
  Real* gs = grad_seasonal.data();
  Real* ga = grad_ar_pre.data();
  Real* gz = grad_z.data();
  Kokkos::parallel_for(
      "climvae::prior::conditional_backward", RangePolicy(0, n), KOKKOS_LAMBDA(const int i) {
        const int r = i / nz, f = i % nz, t = r % steps;
        const int im = r * 2 * nz + f, iv = im + nz;
        const Real inv_s = kx::exp(Real(-0.5) * p[iv]);
        const Real u = (zz[i] - p[im]) * inv_s;
        Real dm = g[im], dv = g[iv], da = 0, dz = 0;
        if (t > 0) {
          const Real s = Real(1) / inv_s, rho = kx::tanh(pre[i]);
          const Real u_prev = (zz[i - nz] - p[im - 2 * nz]) * kx::exp(Real(-0.5) * p[iv - 2 * nz]);
          dv += Real(0.5) * g[im] * s * rho * u_prev;
          da = g[im] * s * u_prev * (Real(1) - rho * rho) - Real(2) * rho * g[iv];
        }
        if (t + 1 < steps) {
          const Real d_next = g[im + 2 * nz] * kx::exp(Real(0.5) * p[iv + 2 * nz]) * kx::tanh(pre[i + nz]);
          dm -= d_next * inv_s;
          dv -= Real(0.5) * d_next * u;
          dz = d_next * inv_s;
        }
        gs[im] = dm;
        gs[iv] = dv;
        ga[i] = da;
        gz[i] = dz;
      });
}

void prior_backward(const VaeConfig& config, const PriorSlices& slices, const View1& params, const View3& season,
                    const CellIndices& cells, const View3& grad_seasonal, const View3& grad_ar_pre,
                    const Real* decoder_input_grad, const View1& grads) {
  // Kernel: dW[g, c] = sum_rows input[r, g] * gp[r, c], input = (f, f ⊗ e_cell, e_cell); the same
  // for the autoregression's A with input (1, f, e_cell) and d a. Embedding: de[q, e] = sum over
  // rows of cell q of everything e_q feeds (the kernels' inputs and the decoder's channels).
  // One thread per output, looping over rows: no atomics, the same sums on every backend.
  const int steps = static_cast<int>(season.extent(1));
  const int rows = static_cast<int>(season.extent(0)) * steps;
  const int nf = config.fourier_features, nz = config.latent, nc = 2 * nz, ne = config.embedding;
  const int ni = config.prior_inputs(), bias_row = nf * (1 + ne), nb = config.prior_bias ? ne : 0;
  const int nd = config.decoder_inputs();
  const bool temporal = config.prior == PriorKind::temporal;
  const Real* sf = season.data();
  const Real* gp = grad_seasonal.data();
  const Real* ga = temporal ? grad_ar_pre.data() : nullptr;
  const Real* w = params.data() + slices.kernel.offset;
  const Real* a = params.data() + slices.ar_kernel.offset;
  const Real* emb = params.data() + slices.embedding.offset;
  const int* cell = cells.data();
  const bool per_cell = cells.extent(0) > 0;
  Real* dw = grads.data() + slices.kernel.offset;
  Kokkos::parallel_for(
      "climvae::prior::grad_kernel", RangePolicy(0, ni * nc), KOKKOS_LAMBDA(const int i) {
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
  if (temporal) {
    Real* da = grads.data() + slices.ar_kernel.offset;
    Kokkos::parallel_for(
        "climvae::prior::grad_ar_kernel", RangePolicy(0, (1 + nf + ne) * nz), KOKKOS_LAMBDA(const int i) {
          const int g = i / nz, c = i % nz;
          Real acc = 0;
          for (int r = 0; r < rows; ++r) {
            const Real in = g == 0 ? Real(1)
                            : g <= nf ? sf[r * nf + g - 1]
                                      : emb[(per_cell ? cell[r / steps] : 0) * ne + g - 1 - nf];
            acc += in * ga[r * nz + c];
          }
          da[i] = acc;
        });
  }
  if (ne == 0) return;
  const Real* dz_dec = decoder_input_grad;
  Real* de = grads.data() + slices.embedding.offset;
  Kokkos::parallel_for(
      "climvae::prior::grad_cell_embedding", RangePolicy(0, config.cells * ne), KOKKOS_LAMBDA(const int i) {
        const int q = i / ne, e = i % ne;
        Real acc = 0;
        for (int r = 0; r < rows; ++r) {
          if ((per_cell ? cell[r / steps] : 0) != q) continue;
          if (dz_dec) acc += dz_dec[r * nd + nz + e];
          if (nb > 0)
            for (int c = 0; c < nc; ++c) acc += w[(bias_row + e) * nc + c] * gp[r * nc + c];
          for (int f = 0; f < nf; ++f) {
            Real dot = 0;
            for (int c = 0; c < nc; ++c) dot += w[(nf + f * ne + e) * nc + c] * gp[r * nc + c];
            acc += sf[r * nf + f] * dot;
          }
          if (ga)
            for (int c = 0; c < nz; ++c) acc += a[(1 + nf + e) * nz + c] * ga[r * nz + c];
        }
        de[i] = acc;
      });
}

void prior_sample(const View3& seasonal, const View3& ar_pre, const View3& eps, const View3& z) {
  const int batch = static_cast<int>(z.extent(0)), steps = static_cast<int>(z.extent(1));
  const int nz = static_cast<int>(z.extent(2));
  require(seasonal.extent(0) >= z.extent(0) && static_cast<int>(seasonal.extent(1)) == steps &&
              static_cast<int>(seasonal.extent(2)) == 2 * nz && eps.extent(0) >= z.extent(0) &&
              eps.extent(1) == z.extent(1) && eps.extent(2) == z.extent(2),
          "prior_sample: shape mismatch");
  const Real* p = seasonal.data();
  const Real* e = eps.data();
  Real* zz = z.data();
  if (ar_pre.extent(0) == 0) {  // independent steps: one thread per value
    Kokkos::parallel_for(
        "climvae::prior::sample_seasonal", RangePolicy(0, batch * steps * nz), KOKKOS_LAMBDA(const int i) {
          const int r = i / nz, f = i % nz;
          zz[i] = p[r * 2 * nz + f] + kx::exp(Real(0.5) * p[r * 2 * nz + nz + f]) * e[i];
        });
    return;
  }
  const Real* pre = ar_pre.data();
  Kokkos::parallel_for(  // one thread per (trace, feature) chain, along its steps
      "climvae::prior::sample_temporal", RangePolicy(0, batch * nz), KOKKOS_LAMBDA(const int j) {
        const int b = j / nz, f = j % nz;
        Real u = 0;
        for (int t = 0; t < steps; ++t) {
          const int i = (b * steps + t) * nz + f, im = (b * steps + t) * 2 * nz + f;
          u = t == 0 ? e[i] : kx::tanh(pre[i]) * u + kx::exp(Real(0.5) * log_one_minus_tanh2(pre[i])) * e[i];
          zz[i] = p[im] + kx::exp(Real(0.5) * p[im + nz]) * u;
        }
      });
}

}  // namespace climvae
