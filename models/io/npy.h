// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0) without numpy.
//
// The reader validates everything a corrupt or mismatched file can get wrong: magic string,
// version, header dictionary syntax, dtype, fortran_order, shape, and that the data size equals
// prod(shape) * itemsize exactly. Every failure is an InputError naming the file and the fix.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cimsim::npy {

struct Array {
  std::string descr;           // dtype as written in the header, e.g. "<i8", "|u1", "<f4"
  bool integral = false;       // true for bool/int/uint dtypes
  std::vector<int64_t> shape;  // as in the header; () is a 0-d array with one element
  std::vector<double> values;  // prod(shape) values in C (row-major) order, whatever the file order

  int64_t size() const;
};

// Reads any .npy with dtype b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8 (either byte order).
// Integer values whose magnitude exceeds 2^53 are rejected (they would not be exact as double).
Array read(const std::string& path);

// Reads a 2-D integer array; `what` names the role in messages ("weights", "inputs").
// Floating-point dtypes are rejected with a message that says to save integers.
Array read_int_matrix(const std::string& path, const std::string& what);

// Writes a C-order array atomically: to "<path>.tmp.<pid>" then rename(), so a reader never sees a
// half-written file. dtype "<f8" or "<f4" (values rounded to float) or "<i8", "<i2", "|i1" (values
// must be integers the type holds). Throws InputError on I/O failure, naming the path.
void write(const std::string& path, const std::vector<int64_t>& shape, const std::vector<double>& values,
           const std::string& descr = "<f8");

}  // namespace cimsim::npy
