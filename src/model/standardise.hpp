// The model sees each cell's temperatures standardised: z = (detrended kelvin - offset_k) / scale_k.
// One formula for every cell type that carries the two numbers (a model file's ModelCell, a
// store's CellSeries), so training, generation and conditioning cannot drift apart.
#pragma once

namespace climvae {

template <class Cell>
double standardise(const Cell& cell, double kelvin) {
  return (kelvin - cell.offset_k) / cell.scale_k;
}

template <class Cell>
double unstandardise(const Cell& cell, double z) {
  return cell.offset_k + cell.scale_k * z;
}

}  // namespace climvae
