// Y = D x L for small integers: input digits D in [0, 255] and cell levels L in [-127, 127]
// (dac_bits <= 8, cell_bits <= 7), summed exactly in int32. The crossbar uses it for the partial
// sums of ideal cells (every sum an integer) and, with device variation, for the ideal partial sums
// next to the programmed ones (the error statistics). Two kernels, chosen at run time: u8 x s8
// four-way dot products on CPUs with AVX-512 VNNI (64 multiply-adds per instruction against 16 for
// a float kernel), and plain integer loops everywhere else. Both give the same integers; the float
// result equals integer_gemm's bit for bit (exact below 2^24).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <vector>

namespace cimsim {

// Operands in groups of four depth rows ("quads"), zero-padded: digits as [quad][vector][4]
// bytes over a batch padded to a multiple of kByteGemmVectors; levels as [quad][column][4].
constexpr int kByteGemmVectors = 32;

struct PackedDigits {
  int quads = 0;
  int vectors = 0;  // padded batch
  std::vector<uint8_t> bytes;
};

struct PackedLevels {
  int quads = 0;
  int cols = 0;
  std::vector<int8_t> bytes;
};

using IntSums = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic>;  // column-major, as y

enum class ByteKernel { kPortable, kVnni };
// The fastest kernel this CPU runs, detected once (AVX-512 VNNI and BW, else the portable loops).
ByteKernel byte_kernel_best();
const char* byte_kernel_name(ByteKernel kernel);

// Whether D and L fit the byte kernel: digits below 2^dac_bits <= 256, |levels| <= 127.
bool byte_gemm_fits(int dac_bits, const Eigen::MatrixXf& levels);

// digits(v, k) = (inputs column k, vector v >> shift) & mask, for a batch x depth block given as
// depth columns of `batch` uint16 values each (column k at columns[k]); `out` keeps its memory.
void pack_digits(const std::vector<const uint16_t*>& columns, int batch, int shift, int mask,
                 PackedDigits& out);
PackedDigits pack_digits(const std::vector<const uint16_t*>& columns, int batch, int shift, int mask);
PackedLevels pack_levels(const Eigen::Ref<const Eigen::MatrixXf>& levels);

// y (count x cols) = digits rows [first, first + count) x levels; first % kByteGemmVectors == 0.
void byte_gemm(const PackedDigits& digits, int first, int count, const PackedLevels& levels, IntSums& y,
               ByteKernel kernel = byte_kernel_best());
void byte_gemm(const PackedDigits& digits, int first, int count, const PackedLevels& levels,
               Eigen::MatrixXf& y, ByteKernel kernel = byte_kernel_best());

}  // namespace cimsim
