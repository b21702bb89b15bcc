// View and policy aliases used throughout the engine: one place to change layouts or spaces.
#pragma once
#include <Kokkos_Core.hpp>

namespace climvae {

using Real = float;
using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;

// Activations are (batch, time, channels), LayoutRight: channels contiguous, as Keras' NWC.
using View1 = Kokkos::View<Real*, Kokkos::LayoutRight, MemSpace>;
using View2 = Kokkos::View<Real**, Kokkos::LayoutRight, MemSpace>;
using View3 = Kokkos::View<Real***, Kokkos::LayoutRight, MemSpace>;
using ConstView1 = Kokkos::View<const Real*, Kokkos::LayoutRight, MemSpace>;
using ConstView3 = Kokkos::View<const Real***, Kokkos::LayoutRight, MemSpace>;
// Unmanaged slice of a parameter or gradient buffer.
using Slice = Kokkos::View<Real*, Kokkos::LayoutRight, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

using RangePolicy = Kokkos::RangePolicy<ExecSpace>;

}  // namespace climvae
