// Small dense linear systems (factor models, least-squares fits): one solver for the project.
#pragma once
#include <vector>

namespace climvae {

// Solves the n x n system a x = b (a row-major, n = b.size()) by Gaussian elimination with partial
// pivoting. A pivot smaller than `tolerance` in magnitude means the system is singular: the
// result is then the zero vector, and *singular (when given) is set.
std::vector<double> solve_linear(std::vector<double> a, std::vector<double> b, double tolerance = 1e-300,
                                 bool* singular = nullptr);

// a = V diag(w) V^T for the symmetric n x n matrix a (row-major; cyclic Jacobi, V's columns the
// eigenvectors, in no particular order).
void symmetric_eigen(std::vector<double> a, int n, std::vector<double>& w, std::vector<double>& v);

}  // namespace climvae
