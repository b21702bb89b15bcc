#include <Kokkos_Core.hpp>
int climvae_kokkos_shared_check() {
  int sum = 0;
  Kokkos::parallel_reduce("check", 10, KOKKOS_LAMBDA(const int i, int& s) { s += i; }, sum);
  return sum;
}
