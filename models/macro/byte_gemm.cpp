#include "byte_gemm.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "core/cpu_features.h"

#ifdef CIMSIM_X86_KERNELS
#include <immintrin.h>
#endif

namespace cimsim {

bool byte_gemm_fits(int dac_bits, const Eigen::MatrixXf& levels) {
  return dac_bits <= 8 && levels.size() > 0 && levels.cwiseAbs().maxCoeff() <= 127.0f;
}

PackedDigits pack_digits(const std::vector<const uint16_t*>& columns, int batch, int shift, int mask) {
  PackedDigits p;
  pack_digits(columns, batch, shift, mask, p);
  return p;
}

void pack_digits(const std::vector<const uint16_t*>& columns, int batch, int shift, int mask,
                 PackedDigits& p) {
  const int depth = int(columns.size());
  p.quads = (depth + 3) / 4;
  p.vectors = (batch + kByteGemmVectors - 1) / kByteGemmVectors * kByteGemmVectors;
  p.bytes.assign(std::size_t(p.quads) * std::size_t(p.vectors) * 4, 0);
  static const uint16_t kZeros[kByteGemmVectors] = {};
  for (int q = 0; q < p.quads; ++q) {
    // The quad's four columns (zeros past the depth), one 32-bit word per vector.
    const uint16_t* x[4];
    for (int i = 0; i < 4; ++i) x[i] = 4 * q + i < depth ? columns[std::size_t(4 * q + i)] : nullptr;
    uint8_t* out = p.bytes.data() + std::size_t(q) * std::size_t(p.vectors) * 4;
    for (int v0 = 0; v0 < batch; v0 += kByteGemmVectors) {
      const int n = std::min(kByteGemmVectors, batch - v0);
      const uint16_t* c[4];
      for (int i = 0; i < 4; ++i) c[i] = x[i] ? x[i] + v0 : kZeros;
      uint32_t words[kByteGemmVectors];
      for (int v = 0; v < n; ++v) {
        words[v] = uint32_t((c[0][v] >> shift) & mask) | uint32_t((c[1][v] >> shift) & mask) << 8 |
                   uint32_t((c[2][v] >> shift) & mask) << 16 | uint32_t((c[3][v] >> shift) & mask) << 24;
      }
      std::memcpy(out + std::size_t(v0) * 4, words, sizeof(uint32_t) * std::size_t(n));
    }
  }
}

PackedLevels pack_levels(const Eigen::Ref<const Eigen::MatrixXf>& levels) {
  PackedLevels p;
  p.quads = int((levels.rows() + 3) / 4);
  p.cols = int(levels.cols());
  p.bytes.assign(std::size_t(p.quads) * std::size_t(p.cols) * 4, 0);
  for (Eigen::Index k = 0; k < levels.rows(); ++k)
    for (Eigen::Index c = 0; c < levels.cols(); ++c)
      p.bytes[(std::size_t(k / 4) * std::size_t(p.cols) + std::size_t(c)) * 4 + std::size_t(k % 4)] =
          int8_t(levels(k, c));
  return p;
}

namespace {

// One block of kByteGemmVectors vectors x Cols columns: out[j * ld + v] for v < rows.
template <int Cols, typename Out>
void block_portable(const uint8_t* d, int quads, int vectors, const int8_t* l, int cols, Out* out,
                    Eigen::Index ld, int rows) {
  for (int j = 0; j < Cols; ++j) {
    int32_t acc[kByteGemmVectors] = {};
    for (int q = 0; q < quads; ++q) {
      const uint8_t* dq = d + std::size_t(q) * std::size_t(vectors) * 4;
      const int8_t* lq = l + (std::size_t(q) * std::size_t(cols) + std::size_t(j)) * 4;
      for (int v = 0; v < kByteGemmVectors; ++v)
        for (int i = 0; i < 4; ++i) acc[v] += int32_t(dq[v * 4 + i]) * int32_t(lq[i]);
    }
    for (int v = 0; v < rows; ++v) out[j * ld + v] = Out(acc[v]);
  }
}

#ifdef CIMSIM_X86_KERNELS
template <int Cols, typename Out>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void block_vnni(const uint8_t* d, int quads,
                                                                       int vectors, const int8_t* l, int cols,
                                                                       Out* out, Eigen::Index ld, int rows) {
  __m512i low[Cols], high[Cols];
  for (int j = 0; j < Cols; ++j) low[j] = high[j] = _mm512_setzero_si512();
  for (int q = 0; q < quads; ++q) {
    const uint8_t* dq = d + std::size_t(q) * std::size_t(vectors) * 4;
    const __m512i d0 = _mm512_loadu_si512(dq);
    const __m512i d1 = _mm512_loadu_si512(dq + 64);
    const int8_t* lq = l + std::size_t(q) * std::size_t(cols) * 4;
    for (int j = 0; j < Cols; ++j) {
      int32_t word;
      std::memcpy(&word, lq + 4 * j, 4);
      const __m512i w = _mm512_set1_epi32(word);
      low[j] = _mm512_dpbusd_epi32(low[j], d0, w);
      high[j] = _mm512_dpbusd_epi32(high[j], d1, w);
    }
  }
  // Vectors [0, rows) of each column, straight from the registers.
  const __mmask16 first16 = __mmask16(rows >= 16 ? 0xffff : (1u << rows) - 1);
  const __mmask16 second16 = __mmask16(rows >= 32 ? 0xffff : (1u << (rows > 16 ? rows - 16 : 0)) - 1);
  for (int j = 0; j < Cols; ++j) {
    Out* o = out + j * ld;
    if constexpr (std::is_same_v<Out, float>) {
      _mm512_mask_storeu_ps(o, first16, _mm512_cvtepi32_ps(low[j]));
      if (rows > 16) _mm512_mask_storeu_ps(o + 16, second16, _mm512_cvtepi32_ps(high[j]));
    } else {
      _mm512_mask_storeu_epi32(o, first16, low[j]);
      if (rows > 16) _mm512_mask_storeu_epi32(o + 16, second16, high[j]);
    }
  }
}
#endif

constexpr int kCols = 8;  // columns per block: 16 accumulators in registers

template <typename Out>
using Block = void (*)(const uint8_t*, int, int, const int8_t*, int, Out*, Eigen::Index, int);

// The block kernels for 1..kCols columns, so the accumulators stay in registers.
template <typename Out, int... Cols>
constexpr std::array<Block<Out>, sizeof...(Cols)> portable_blocks(std::integer_sequence<int, Cols...>) {
  return {block_portable<Cols + 1, Out>...};
}
#ifdef CIMSIM_X86_KERNELS
template <typename Out, int... Cols>
constexpr std::array<Block<Out>, sizeof...(Cols)> vnni_blocks(std::integer_sequence<int, Cols...>) {
  return {block_vnni<Cols + 1, Out>...};
}
#endif

template <typename Out, typename Matrix>
void byte_gemm_into(const PackedDigits& digits, int first, int count, const PackedLevels& levels, Matrix& y,
                    ByteKernel kernel) {
  if (digits.quads != levels.quads || first % kByteGemmVectors != 0 || first + count > digits.vectors)
    throw std::logic_error("byte_gemm: operands do not match");
  static constexpr auto kPortable = portable_blocks<Out>(std::make_integer_sequence<int, kCols>());
  const Block<Out>* blocks = kPortable.data();
  if (kernel == ByteKernel::kVnni) {
#ifdef CIMSIM_X86_KERNELS
    static constexpr auto kVnni = vnni_blocks<Out>(std::make_integer_sequence<int, kCols>());
    blocks = kVnni.data();
#else
    throw std::logic_error("byte_gemm: no VNNI kernel on this architecture");
#endif
  }
  y.resize(count, levels.cols);
  for (int v0 = 0; v0 < count; v0 += kByteGemmVectors) {
    const int rows = std::min(kByteGemmVectors, count - v0);
    const uint8_t* d = digits.bytes.data() + std::size_t(first + v0) * 4;
    for (int c = 0; c < levels.cols; c += kCols) {
      const int n = std::min(kCols, levels.cols - c);
      blocks[n - 1](d, digits.quads, digits.vectors, levels.bytes.data() + std::size_t(c) * 4, levels.cols,
                    y.data() + Eigen::Index(c) * count + v0, count, rows);
    }
  }
}

}  // namespace

ByteKernel byte_kernel_best() {
  const CpuFeatures& cpu = cpu_features();
  return cpu.avx512vnni && cpu.avx512bw ? ByteKernel::kVnni : ByteKernel::kPortable;
}

const char* byte_kernel_name(ByteKernel kernel) {
  return kernel == ByteKernel::kVnni ? "AVX-512 VNNI" : "portable loops";
}

void byte_gemm(const PackedDigits& digits, int first, int count, const PackedLevels& levels, IntSums& y,
               ByteKernel kernel) {
  byte_gemm_into<int32_t>(digits, first, count, levels, y, kernel);
}

void byte_gemm(const PackedDigits& digits, int first, int count, const PackedLevels& levels,
               Eigen::MatrixXf& y, ByteKernel kernel) {
  byte_gemm_into<float>(digits, first, count, levels, y, kernel);
}

}  // namespace cimsim
