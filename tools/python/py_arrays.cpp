#include "py_arrays.h"

#include <cstdint>
#include <limits>

#include "core/error.h"

namespace cimsim::python {
namespace {

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

std::string dtype_text(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// The checks of npy::read_int_matrix and of cimsim mvm's int32 conversion, then the int32 copy.
IntMatrix checked_int_matrix(const py::array& a, const std::string& name) {
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u')
    throw InputError(name + ": has dtype " + dtype_text(a) + "; " + name +
                     " must be an integer array: pass arr.astype(np.int32)");
  if (a.ndim() != 2)
    throw InputError(name + ": " + name + " must be a 2-D array but the shape is " + shape_text(a) +
                     ": pass arr.reshape(rows, cols)");
  const auto too_wide = [&](py::ssize_t i) {
    return InputError(name + ": value at [" + std::to_string(i / a.shape(1)) + ", " +
                      std::to_string(i % a.shape(1)) +
                      "] does not fit a 32-bit integer; it cannot be a quantized weight or input");
  };
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (kind == 'u' && a.dtype().itemsize() == 8) {  // values above 2^63 do not fit int64: check them first
    const auto u = py::array_t<uint64_t, py::array::c_style>::ensure(a);
    if (!u) throw py::error_already_set();
    for (py::ssize_t i = 0; i < u.size(); ++i)
      if (u.data()[i] > uint64_t(kMax)) throw too_wide(i);
  }
  const auto wide = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!wide) throw py::error_already_set();
  IntMatrix m(a.shape(0), a.shape(1));
  for (py::ssize_t i = 0; i < wide.size(); ++i) {
    const int64_t v = wide.data()[i];
    if (v > kMax || v < -kMax) throw too_wide(i);
    m.data()[i] = int32_t(v);  // both in C order
  }
  return m;
}

}  // namespace

Eigen::MatrixXi weight_matrix(const py::array& a, const std::string& name) {
  return checked_int_matrix(a, name);
}

Eigen::Map<const IntMatrix> input_matrix(const py::array& a, const std::string& name, IntMatrix& storage) {
  const bool in_place =
      a.ndim() == 2 && a.dtype().is(py::dtype::of<int32_t>()) && (a.flags() & py::array::c_style) != 0;
  if (in_place)
    return Eigen::Map<const IntMatrix>(static_cast<const int32_t*>(a.data()), a.shape(0), a.shape(1));
  storage = checked_int_matrix(a, name);
  return Eigen::Map<const IntMatrix>(storage.data(), storage.rows(), storage.cols());
}

npy::Array npy_array(const py::array& a, const std::string& name) {
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u' && kind != 'f' && kind != 'b')
    throw InputError(name + ": dtype " + dtype_text(a) + " is not numeric; give an integer or float array");
  npy::Array out;
  out.descr = py::str(a.dtype().attr("str")).cast<std::string>();
  out.integral = kind != 'f';
  for (py::ssize_t d = 0; d < a.ndim(); ++d) out.shape.push_back(int64_t(a.shape(d)));
  const auto values = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!values) throw py::error_already_set();
  out.values.assign(values.data(), values.data() + values.size());
  return out;
}

}  // namespace cimsim::python
