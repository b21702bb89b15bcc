// A sanity check of a classic or CDF-5 NetCDF header before PnetCDF opens the file. PnetCDF
// allocates what the header's counts announce: one flipped byte in an attribute's length made it
// ask for 17 GB and run for a minute before failing with an unrelated message. Every count here
// must fit in the bytes the file has.
#pragma once
#include <string>

namespace climvae {

// Throws Error naming the file and the first count that cannot be right (the header ends before
// it, or it announces more bytes than the file holds). Files that are not classic/CDF-5 NetCDF
// (netCDF-4/HDF5, anything else) are left to the caller's own error.
void check_cdf_header(const std::string& path);

}  // namespace climvae
